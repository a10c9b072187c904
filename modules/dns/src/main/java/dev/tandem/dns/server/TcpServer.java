package dev.tandem.dns.server;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DNS over TCP (RFC 7766): length-prefixed messages, several per connection, answered in order. A
 * bounded number of connections, each cut after it idles; one past the limit is closed at once.
 */
final class TcpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TcpServer.class);
    static final int MAX_CONNECTIONS = 128;
    private static final int IDLE_TIMEOUT_MS = 10_000;

    private final ServerSocket listener;
    private final ThreadPoolExecutor connections;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final QueryHandler handler;
    private final Thread acceptor;
    private final RateLimitedLog errors = new RateLimitedLog(LOG);

    TcpServer(InetSocketAddress address, QueryHandler handler) throws IOException {
        this.handler = handler;
        listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(address, 256);
        AtomicInteger ids = new AtomicInteger();
        connections = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "dns-tcp-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        acceptor = new Thread(this::accept, "dns-tcp-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (!listener.isClosed()) errors.warn("DNS TCP accept: " + e.getMessage(), null);
                continue;
            }
            try {
                connections.execute(() -> serve(socket));
            } catch (RejectedExecutionException e) {
                errors.warn("DNS TCP: " + MAX_CONNECTIONS + " connections open; refusing one from " + socket.getInetAddress().getHostAddress(), null);
                closeQuietly(socket);
            }
        }
    }

    private void serve(Socket socket) {
        open.add(socket);
        try (socket) {
            socket.setSoTimeout(IDLE_TIMEOUT_MS);
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                int length;
                try {
                    length = in.readUnsignedShort();
                } catch (EOFException | SocketTimeoutException e) {
                    return; // the client is done, or idled too long
                }
                byte[] request = new byte[length];
                in.readFully(request);
                IOException[] failed = new IOException[1];
                handler.handle(request, socket.getInetAddress(), true, reply -> {
                    if (failed[0] != null) return;
                    try {
                        byte[] framed = new byte[reply.length + 2];
                        framed[0] = (byte) (reply.length >>> 8);
                        framed[1] = (byte) reply.length;
                        System.arraycopy(reply, 0, framed, 2, reply.length);
                        synchronized (out) {
                            out.write(framed);
                            out.flush();
                        }
                    } catch (IOException e) {
                        failed[0] = e;
                    }
                });
                if (failed[0] != null) throw failed[0];
            }
        } catch (SocketException | EOFException | SocketTimeoutException e) {
            LOG.debug("DNS TCP connection from {} ended: {}", socket.getInetAddress(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            errors.warn("DNS TCP connection from " + socket.getInetAddress().getHostAddress() + ": " + e, null);
        } finally {
            open.remove(socket);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a refused connection: nothing to do about a failure
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing the DNS TCP listener", e);
        }
        open.forEach(TcpServer::closeQuietly);
        connections.shutdownNow();
        try {
            acceptor.join(2000);
            connections.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
