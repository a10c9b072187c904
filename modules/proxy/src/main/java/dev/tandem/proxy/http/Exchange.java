package dev.tandem.proxy.http;

import dev.tandem.proxy.pool.Backend;
import dev.tandem.proxy.route.RouteTable;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * One client request on its way through the proxy: the route it took, the member serving it (another
 * one after a retry), and what the member answered. It holds one in-flight count on its member.
 */
final class Exchange {
    /** Safe to send twice (RFC 9110 9.2.2), as long as there is no body that may have been consumed. */
    private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE");

    final long startNanos = System.nanoTime();
    final RouteTable.Route route;
    private volatile Backend backend;
    private volatile Backend retriedFrom;
    volatile int backendStatus;
    volatile boolean bodyTooLarge;

    Exchange(RouteTable.Route route, Backend backend) {
        this.route = route;
        this.backend = backend;
        backend.state().acquire();
    }

    Backend backend() {
        return backend;
    }

    Backend retriedFrom() {
        return retriedFrom;
    }

    /** Once, for a request whose connection to its member failed before the member could read a body. */
    boolean mayRetry(Request request) {
        return retriedFrom == null && IDEMPOTENT.contains(request.getMethod()) && !hasBody(request);
    }

    void retryOn(Backend next) {
        Backend failed = backend;
        next.state().acquire();
        backend = next;
        retriedFrom = failed;
        failed.state().release();
    }

    void release() {
        backend.state().release();
    }

    static boolean hasBody(Request request) {
        long length = request.getLength();
        return length > 0 || (length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING));
    }
}
