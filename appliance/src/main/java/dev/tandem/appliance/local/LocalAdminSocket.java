package dev.tandem.appliance.local;

import dev.tandem.appliance.local.LocalAdminProtocol.Request;
import dev.tandem.appliance.local.LocalAdminProtocol.Response;
import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.InvalidConfigException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Serves {@link LocalAdminProtocol} on {@code DATA_DIR/admin.sock}. */
public final class LocalAdminSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalAdminSocket.class);

    private final ClusterService cluster;
    private final Path path;
    private final ServerSocketChannel server;
    private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "local-admin");
        t.setDaemon(true);
        return t;
    });

    private LocalAdminSocket(ClusterService cluster, Path path, ServerSocketChannel server) {
        this.cluster = cluster;
        this.path = path;
        this.server = server;
    }

    public static LocalAdminSocket open(Path dataDir, ClusterService cluster) throws IOException {
        Path path = dataDir.resolve(LocalAdminProtocol.SOCKET);
        Files.deleteIfExists(path); // left by a killed process; the H2 lock already ensures we are the only one
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        LocalAdminSocket socket = new LocalAdminSocket(cluster, path, server);
        Thread acceptor = new Thread(socket::acceptLoop, "local-admin-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return socket;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                workers.execute(() -> serve(client));
            } catch (IOException e) {
                if (server.isOpen()) LOG.warn("local admin socket: {}", e.toString());
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            Response response = answer(readRequest(client));
            client.write(ByteBuffer.wrap(ConfigCodec.toJson(response).getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            LOG.debug("local admin client went away: {}", e.toString());
        }
    }

    private static byte[] readRequest(SocketChannel client) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        var in = Channels.newInputStream(client);
        for (int n; (n = in.read(buffer)) > 0; ) {
            request.write(buffer, 0, n);
            if (request.size() > LocalAdminProtocol.MAX_REQUEST) throw new IOException("request too large");
        }
        return request.toByteArray();
    }

    private Response answer(byte[] raw) {
        Request request;
        try {
            request = ConfigCodec.json().readValue(raw, Request.class);
        } catch (IOException e) {
            return Response.error("BAD_REQUEST", "unreadable request: " + e.getMessage());
        }
        if ("show".equals(request.op())) {
            ConfigVersion running = cluster.running();
            return Response.ok(running.version(), ConfigCodec.toYaml(running.config()));
        }
        if (!"commit".equals(request.op())) return Response.error("BAD_REQUEST", "unknown op \"" + request.op() + "\"");
        try {
            ClusterConfig next = ConfigCodec.readYaml(request.document() == null ? "" : request.document());
            CommitRequest commit = new CommitRequest(next, request.expectedVersion(), request.author(),
                    "local:" + cluster.nodeName(), request.comment(), Instant.now());
            ConfigVersion committed = cluster.commit(commit);
            LOG.info("{} committed config version {} locally: {}", request.author(), committed.version(), request.comment());
            return Response.ok(committed.version(), ConfigCodec.toYaml(committed.config()));
        } catch (InvalidConfigException e) {
            return Response.error(CommitException.Reason.INVALID.name(), e.getMessage());
        } catch (CommitException e) {
            return Response.error(e.reason().name(), e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debug("closing the local admin socket: {}", e.toString());
        }
        workers.shutdownNow();
    }
}
