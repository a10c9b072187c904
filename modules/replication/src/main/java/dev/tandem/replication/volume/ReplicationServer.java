package dev.tandem.replication.volume;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The replication listener: TLS with client certificates from the cluster CA; one thread per primary's stream. */
public final class ReplicationServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationServer.class);

    private final ServerSocket listener;
    private final SSLContext tls;
    private final Function<String, Replica> replicas;
    private final Set<SecondarySession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ReplicationServer(ServerSocket listener, SSLContext tls, Function<String, Replica> replicas) {
        this.listener = listener;
        this.tls = tls;
        this.replicas = replicas;
    }

    public static ReplicationServer start(InetSocketAddress bind, SSLContext tls, Function<String, Replica> replicas) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(bind);
        ReplicationServer server = new ReplicationServer(listener, tls, replicas);
        Thread t = new Thread(server::acceptLoop, "repl-accept");
        t.setDaemon(true);
        t.start();
        LOG.info("replication listens on {}", bind);
        return server;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket raw = listener.accept();
                Thread t = new Thread(() -> serve(raw), "repl-from-" + raw.getInetAddress().getHostAddress());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) LOG.warn("replication accept failed: {}", e.getMessage());
            }
        }
    }

    private void serve(Socket raw) {
        SecondarySession session = null;
        try {
            raw.setTcpNoDelay(true);
            raw.setSoTimeout(PeerLink.DEAD_AFTER_MS);
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(raw, null, raw.getPort(), true);
            socket.setUseClientMode(false);
            socket.setNeedClientAuth(true);
            socket.startHandshake();
            session = new SecondarySession(raw, socket);
            sessions.add(session);
            session.serve(replicas);
        } catch (IOException e) {
            LOG.info("replication connection from {} refused: {}", raw.getRemoteSocketAddress(), e.getMessage());
            try {
                raw.close();
            } catch (IOException ignored) {
                // already failing
            }
        } finally {
            if (session != null) sessions.remove(session);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        sessions.forEach(SecondarySession::close);
    }
}
