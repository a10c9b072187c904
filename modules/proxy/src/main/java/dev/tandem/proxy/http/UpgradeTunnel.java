package dev.tandem.proxy.http;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** TEMPORARY placeholder until the real tunnel lands. */
public final class UpgradeTunnel {
    public interface Outcome {
        void connectFailed(Throwable cause);

        void finished();
    }

    public UpgradeTunnel(ClientConnector connector, Duration idleTimeout) {}

    public static boolean isUpgrade(Request request) {
        return false;
    }

    public void handle(Request request, Response response, Callback callback, InetSocketAddress backend, HttpFields extraHeaders, Outcome outcome) {
        Response.writeError(request, response, callback, 501);
        outcome.finished();
    }
}
