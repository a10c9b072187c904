package dev.tandem.web;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.Node;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status endpoint on the node's admin address: {@code GET /status} (JSON). Read-only; it answers
 * from local state and never waits on the cluster, so it works on the minority side of a partition too.
 */
public final class StatusComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(StatusComponent.class);

    private final String observedVersionKey;
    private Server server;

    public StatusComponent(String observedVersionKey) {
        this.observedVersionKey = observedVersionKey;
    }

    @Override
    public String name() {
        return "web";
    }

    @Override
    public void start(ComponentContext context) throws Exception {
        Node self = context.self();
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("web");
        server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost(self.effectiveAdminAddress());
        connector.setPort(context.cluster().running().config().cluster().adminPort());
        server.addConnector(connector);
        server.setHandler(new StatusHandler(context));
        server.start();
        LOG.info("status endpoint on http://{}:{}/status", connector.getHost(), connector.getLocalPort());
    }

    /** The port is bound at start; a changed admin port takes effect at the next restart. */
    @Override
    public void apply(ConfigVersion version) {}

    @Override
    public void stop() throws Exception {
        if (server != null) server.stop();
    }

    private final class StatusHandler extends Handler.Abstract.NonBlocking {
        private final ComponentContext context;

        StatusHandler(ComponentContext context) {
            this.context = context;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            if (!path.equals("/status")) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
                Response.writeError(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405);
                return true;
            }
            String json = ConfigCodec.toJson(StatusReport.of(context.cluster(), observedVersionKey)) + "\n";
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.write(true, ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
