package dev.tandem.replication.nbd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A network block device server (fixed newstyle handshake, simple replies) for the exports of an
 * {@link NbdExports}. One acceptor thread ({@code nbd-accept-<port>}); per client one reader thread
 * ({@code nbd-conn-<peer>}) and up to 16 worker threads ({@code nbd-io-<peer>-<n>}) that exit when idle.
 * All threads are daemons, and {@link #close()} ends them all.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);

    private static final int BACKLOG = 64;

    /** Connection threads get this long on close, on top of the time their export calls get. */
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(20);

    /** Keeps a persistent accept failure (say, out of file descriptors) from spinning a core. */
    private static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);

    private final ServerSocket listener;
    private final NbdExports exports;
    private final InetSocketAddress address;
    private final Thread acceptor;
    private final Object lock = new Object();
    private final Set<NbdConnection> connections = new HashSet<>(); // guarded by lock
    private boolean closed; // guarded by lock

    private NbdServer(ServerSocket listener, NbdExports exports) {
        this.listener = listener;
        this.exports = exports;
        this.address = new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
        this.acceptor = new Thread(this::acceptLoop, "nbd-accept-" + address.getPort());
        this.acceptor.setDaemon(true);
    }

    /**
     * Listens on {@code bind} (port 0 picks a free port; see {@link #address()}) and serves clients
     * until closed. Exports are looked up at each handshake.
     *
     * @throws UncheckedIOException if the address cannot be bound
     */
    public static NbdServer start(InetSocketAddress bind, NbdExports exports) {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(exports, "exports");
        ServerSocket listener = null;
        try {
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(bind, BACKLOG);
        } catch (IOException e) {
            closeQuietly(listener);
            throw new UncheckedIOException("cannot listen for NBD clients on " + bind, e);
        }
        NbdServer server = new NbdServer(listener, exports);
        server.acceptor.start();
        log.info("NBD server listening on {}", server.address);
        return server;
    }

    /** The address actually bound. */
    public InetSocketAddress address() {
        return address;
    }

    /** Clients currently connected, in handshake or transmission. */
    int connectionCount() {
        synchronized (lock) {
            return connections.size();
        }
    }

    /**
     * Stops listening and drops every client (a hard disconnect; in-flight export calls are
     * interrupted), then waits for all threads of this server to end. Idempotent.
     */
    @Override
    public void close() {
        List<NbdConnection> open;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            open = new ArrayList<>(connections);
        }
        closeQuietly(listener);
        open.forEach(NbdConnection::close);
        try {
            acceptor.join(CLOSE_TIMEOUT.toMillis());
            for (NbdConnection connection : open) {
                if (!connection.awaitEnd(CLOSE_TIMEOUT)) {
                    log.warn("NBD connection {} did not end within {}", connection.peer(), CLOSE_TIMEOUT);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("interrupted while closing the NBD server on {}; threads may linger", address);
            return;
        }
        log.info("NBD server on {} closed", address);
    }

    private void acceptLoop() {
        while (true) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (isClosed()) {
                    return;
                }
                log.warn("NBD server on {} cannot accept: {}", address, e.toString());
                if (!pause()) {
                    return;
                }
                continue;
            }
            admit(socket);
        }
    }

    private void admit(Socket socket) {
        try {
            socket.setTcpNoDelay(true); // replies are small and latency-bound; the spec asks for it too
            NbdConnection connection = new NbdConnection(socket, exports, this::forget);
            synchronized (lock) {
                if (closed) {
                    closeQuietly(socket);
                    return;
                }
                connections.add(connection);
                connection.start();
            }
        } catch (IOException | RuntimeException e) {
            log.warn("NBD server on {} cannot take a client: {}", address, e.toString());
            closeQuietly(socket);
        }
    }

    private void forget(NbdConnection connection) {
        synchronized (lock) {
            connections.remove(connection);
        }
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private static boolean pause() {
        try {
            Thread.sleep(ACCEPT_BACKOFF.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("close failed: {}", e.toString());
        }
    }
}
