package dev.tandem.proxy.http;

import dev.tandem.config.ProxyConfig;
import dev.tandem.proxy.pool.Backend;
import dev.tandem.proxy.route.RouteTable;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpScheme;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reverse proxy: routes each request by host and path, picks a member of the route's pool, and
 * lets Jetty's {@link ProxyHandler} stream it there and back. A request whose connection to its member
 * fails before anything was sent back is retried once on another member when it is safe to repeat.
 */
public final class BalancingProxy extends ProxyHandler {
    private static final Logger LOG = LoggerFactory.getLogger(BalancingProxy.class);
    private static final String EXCHANGE = Exchange.class.getName();

    private final Supplier<ProxyState> state;
    private final HttpClient client;
    private final UpgradeTunnel tunnel;
    private volatile AccessLog accessLog;

    public BalancingProxy(Supplier<ProxyState> state, HttpClient client, UpgradeTunnel tunnel) {
        this.state = state;
        this.client = client;
        this.tunnel = tunnel;
    }

    /**
     * Our tuned client, handed to {@link ProxyHandler} through this hook rather than {@code setHttpClient}:
     * only a client it creates itself gets the proxy's settings (no redirects followed, no cookie store,
     * no content decoding, 100-continue relayed to the client).
     */
    @Override
    protected HttpClient newHttpClient() {
        return client;
    }

    /**
     * Routing, picking and sending never block, so Jetty may run them on the thread that read the
     * request instead of handing it to another: on a small machine each hand-off costs more than the work.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    void accessLog(AccessLog log) {
        this.accessLog = log;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ProxyState current = state.get();
        String host = Request.getServerName(request);
        RouteTable.Route route = current.routes().match(host, request.getHttpURI().getPath());
        if (route == null) {
            return refuse(request, response, callback, HttpStatus.NOT_FOUND_404, "no route for host " + host);
        }
        long maxBody = current.config().limits().maxBodyBytes();
        if (maxBody > 0 && request.getLength() > maxBody) {
            return refuse(request, response, callback, HttpStatus.PAYLOAD_TOO_LARGE_413,
                    "request body of " + request.getLength() + " bytes is over the limit of " + maxBody);
        }
        Backend backend = route.pool().pick(null);
        if (backend == null) {
            return refuse(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503,
                    "no healthy member in pool " + route.pool().config().name());
        }
        Exchange exchange = new Exchange(route, backend);
        if (UpgradeTunnel.isUpgrade(request)) {
            // the tunnel outlives the 101 response: the member stays busy (and undrainable) until it closes
            tunnel.handle(request, response, callback, backend.address(), forwardedHeaders(request), new UpgradeTunnel.Outcome() {
                @Override
                public void connectFailed(Throwable cause) {
                    exchange.backend().state().passiveFailure(cause.toString(), exchange.route.pool().config().passive());
                }

                @Override
                public void finished() {
                    finish(request, response, exchange);
                }
            });
            return true;
        }
        request.setAttribute(EXCHANGE, exchange);
        return super.handle(request, response, new Callback() {
            @Override
            public void succeeded() {
                finish(request, response, exchange);
                callback.succeeded();
            }

            @Override
            public void failed(Throwable x) {
                finish(request, response, exchange);
                callback.failed(x);
            }

            @Override
            public InvocationType getInvocationType() {
                return callback.getInvocationType();
            }
        });
    }

    private boolean refuse(Request request, Response response, Callback callback, int status, String why) {
        Response.writeError(request, response, callback, status, why);
        log(request, response, 0, null, null);
        return true;
    }

    private void finish(Request request, Response response, Exchange exchange) {
        exchange.release();
        int status = exchange.backendStatus;
        var passive = exchange.route.pool().config().passive();
        if (status >= 500) {
            exchange.backend().state().passiveFailure("HTTP " + status, passive);
        } else if (status > 0) {
            exchange.backend().state().passiveSuccess();
        }
        log(request, response, System.nanoTime() - exchange.startNanos, exchange.backend(), exchange.retriedFrom());
    }

    private void log(Request request, Response response, long nanos, Backend backend, Backend retriedFrom) {
        AccessLog out = accessLog;
        if (out == null || !state.get().config().accessLog()) return;
        out.log(new AccessLog.Entry(System.currentTimeMillis(), Request.getRemoteAddr(request), request.getMethod(),
                Request.getServerName(request), request.getHttpURI().getPathQuery(), request.getConnectionMetaData().getProtocol(),
                response.getStatus(), Response.getContentBytesWritten(response), TimeUnit.NANOSECONDS.toMicros(nanos),
                backend == null ? null : backend.label(), backend == null ? null : backend.member().address(),
                retriedFrom == null ? null : retriedFrom.label()));
    }

    @Override
    protected HttpURI rewriteHttpURI(Request request) {
        InetSocketAddress to = exchange(request).backend().address();
        String host = to.getAddress().getHostAddress();
        return HttpURI.build(request.getHttpURI())
                .scheme(HttpScheme.HTTP)
                .host(host.indexOf(':') >= 0 ? "[" + host + "]" : host)
                .port(to.getPort());
    }

    @Override
    protected org.eclipse.jetty.client.Request newProxyToServerRequest(Request request, HttpURI uri) {
        ProxyConfig config = state.get().config();
        return super.newProxyToServerRequest(request, uri).idleTimeout(config.timeouts().backendIdle().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** HTTP/2 requests carry the host in :authority, not in a Host header: the member still gets one. */
    @Override
    protected void copyRequestHeaders(Request request, org.eclipse.jetty.client.Request proxied) {
        super.copyRequestHeaders(request, proxied);
        if (!request.getHeaders().contains(HttpHeader.HOST)) {
            String authority = request.getHttpURI().getAuthority();
            if (authority != null) proxied.headers(h -> h.put(HttpHeader.HOST, authority));
        }
    }

    @Override
    protected void addProxyHeaders(Request request, org.eclipse.jetty.client.Request proxied) {
        HttpFields forwarded = forwardedHeaders(request);
        proxied.headers(h -> forwarded.forEach(h::put));
    }

    /**
     * {@code X-Forwarded-For} (the client appended to any earlier hops), {@code -Proto}, {@code -Host},
     * and the standard {@code Forwarded} (RFC 7239) likewise appended.
     */
    private static HttpFields forwardedHeaders(Request request) {
        String client = Request.getRemoteAddr(request);
        String proto = request.isSecure() ? "https" : "http";
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host == null) host = request.getHttpURI().getAuthority();
        String earlierFor = request.getHeaders().get(HttpHeader.X_FORWARDED_FOR);
        String earlier = request.getHeaders().get(HttpHeader.FORWARDED);
        String forNode = client.indexOf(':') >= 0 ? "\"[" + client + "]\"" : client;
        String element = "for=" + forNode + ";proto=" + proto + (host == null ? "" : ";host=\"" + host + "\"");
        HttpFields.Mutable fields = HttpFields.build(4)
                .put(HttpHeader.X_FORWARDED_FOR, earlierFor == null ? client : earlierFor + ", " + client)
                .put(HttpHeader.X_FORWARDED_PROTO, proto)
                .put(HttpHeader.FORWARDED, earlier == null ? element : earlier + ", " + element);
        if (host != null) fields.put(HttpHeader.X_FORWARDED_HOST, host);
        return fields;
    }

    @Override
    protected org.eclipse.jetty.client.Request.Content newProxyToServerRequestContent(
            Request request, Response response, org.eclipse.jetty.client.Request proxied) {
        long max = state.get().config().limits().maxBodyBytes();
        if (max <= 0) return super.newProxyToServerRequestContent(request, response, proxied);
        Exchange exchange = exchange(request);
        // a chunked body has no length up front: count it as it streams, and stop it at the limit
        return new ProxyRequestContent(request) {
            private long seen;

            @Override
            public Content.Chunk read() {
                Content.Chunk chunk = super.read();
                if (chunk != null && chunk.hasRemaining() && (seen += chunk.remaining()) > max) {
                    chunk.release();
                    exchange.bodyTooLarge = true;
                    return Content.Chunk.from(new IllegalStateException("request body over " + max + " bytes"));
                }
                return chunk;
            }
        };
    }

    @Override
    protected org.eclipse.jetty.client.Response.CompleteListener newServerToProxyResponseListener(
            Request request, org.eclipse.jetty.client.Request proxied, Response response, Callback callback) {
        Exchange exchange = exchange(request);
        return new ProxyResponseListener(request, proxied, response, callback) {
            @Override
            public void onBegin(org.eclipse.jetty.client.Response reply) {
                exchange.backendStatus = reply.getStatus();
                super.onBegin(reply);
            }
        };
    }

    @Override
    protected void onServerToProxyResponseFailure(Request request, org.eclipse.jetty.client.Request proxied,
            org.eclipse.jetty.client.Response reply, Response response, Callback callback, Throwable failure) {
        Exchange exchange = exchange(request);
        if (exchange.bodyTooLarge && !response.isCommitted()) {
            Response.writeError(request, response, callback, HttpStatus.PAYLOAD_TOO_LARGE_413, "request body over the limit");
            return;
        }
        boolean unanswered = exchange.backendStatus == 0;
        Backend failed = exchange.backend();
        if (unanswered) failed.state().passiveFailure(failure.toString(), exchange.route.pool().config().passive());
        // an idle timeout means the member took the request and went quiet: repeating it could do the work twice
        if (unanswered && !response.isCommitted() && !(failure instanceof TimeoutException) && exchange.mayRetry(request)) {
            Backend next = exchange.route.pool().pick(failed);
            if (next != null) {
                LOG.debug("{} {} failed on {} ({}); retrying on {}", request.getMethod(), request.getHttpURI(), failed.label(), failure, next.label());
                exchange.retryOn(next);
                super.handle(request, response, callback);
                return;
            }
        }
        super.onServerToProxyResponseFailure(request, proxied, reply, response, callback, failure);
    }

    private static Exchange exchange(Request request) {
        return (Exchange) request.getAttribute(EXCHANGE);
    }
}
