package dev.tandem.proxy.http;

import dev.tandem.config.ProxyCertificate;
import dev.tandem.config.ProxyConfig;
import dev.tandem.proxy.tls.PemKeyStore;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.transport.internal.HttpConnectionOverHTTP;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's Jetty server: an HTTP listener (HTTP/1.1 and h2c) and, when there are certificates, an
 * HTTPS one (HTTP/2 by ALPN, SNI picks the certificate). Listeners change only when their address,
 * port or presence changes; everything else (routes, pools, certificates, timeouts) is applied to the
 * running server without closing a connection.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    /** Where and how to listen, from the config and this node's public address. */
    public record Listeners(String host, int httpPort, int httpsPort, List<ProxyCertificate> certificates, ProxyConfig.Limits limits,
            ProxyConfig.Timeouts timeouts) {
        boolean https() {
            return !certificates.isEmpty();
        }
    }

    private final Server server;
    private final HttpConfiguration httpConfig = new HttpConfiguration();
    private final HttpConfiguration httpsConfig;
    private final SslContextFactory.Server tls = new SslContextFactory.Server();
    private final NetworkConnectionLimit connectionLimit;
    private final HttpClient client;
    private final ClientConnector tunnelConnector = new ClientConnector();
    private final BalancingProxy proxy;
    private final Path accessLogFile;
    private AccessLog accessLog;
    private ServerConnector http;
    private ServerConnector https;
    private List<ProxyCertificate> loadedCertificates;

    public ProxyServer(Supplier<ProxyState> state, Path accessLogFile) {
        this.accessLogFile = accessLogFile;
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        // no threads parked in reserve: waking one for each hand-off cost more than it saved (bench/proxy)
        threads.setReservedThreads(0);
        threads.setName("proxy");
        server = new Server(threads);
        // the member's own Date and Server headers pass through; adding ours would send two
        httpConfig.setSendDateHeader(false);
        httpConfig.setSendServerVersion(false);
        httpConfig.setSendXPoweredBy(false);
        httpsConfig = new HttpConfiguration(httpConfig);
        httpsConfig.addCustomizer(new SecureRequestCustomizer());
        connectionLimit = new NetworkConnectionLimit(10_000, server);
        server.addBean(connectionLimit);

        ClientConnector backendConnector = new ClientConnector();
        backendConnector.setExecutor(threads);
        backendConnector.setSelectors(1);
        client = new HttpClient(new NonBlockingTransport(backendConnector));
        client.setExecutor(threads);
        client.setMaxConnectionsPerDestination(1024);
        client.setMaxRequestsQueuedPerDestination(16 * 1024);
        client.setDestinationIdleTimeout(60_000); // forget members removed from the config
        client.setUserAgentField(null);
        tunnelConnector.setExecutor(threads);
        server.addBean(tunnelConnector);
        proxy = new BalancingProxy(state, client, new UpgradeTunnel(tunnelConnector, java.time.Duration.ofHours(1)));
        server.setHandler(proxy);
        // the handler tree never changes once started; a static server lets Jetty see that the proxy
        // never blocks, and run requests on the thread that parsed them
        server.setDynamic(false);
    }

    /**
     * Members' replies are handled on the thread that read them: the proxy's listeners only pass bytes
     * on without blocking, and handing each reply to another thread costs more than the work.
     */
    private static final class NonBlockingTransport extends HttpClientTransportOverHTTP {
        NonBlockingTransport(ClientConnector connector) {
            super(connector);
        }

        @Override
        public org.eclipse.jetty.io.Connection newConnection(org.eclipse.jetty.io.EndPoint endPoint, java.util.Map<String, Object> context) {
            HttpConnectionOverHTTP connection = new HttpConnectionOverHTTP(endPoint, context) {
                @Override
                public InvocationType getInvocationType() {
                    return InvocationType.NON_BLOCKING;
                }
            };
            return customize(connection, context);
        }
    }

    /** Moves the server to these listeners: starts it the first time, reopens only a listener that moved. */
    public synchronized void apply(Listeners wanted, boolean accessLogOn) throws Exception {
        client.setConnectTimeout(wanted.timeouts().connect().toMillis());
        client.setIdleTimeout(wanted.timeouts().backendIdle().toMillis());
        httpConfig.setRequestHeaderSize(wanted.limits().maxHeaderBytes());
        httpsConfig.setRequestHeaderSize(wanted.limits().maxHeaderBytes());
        connectionLimit.setMaxNetworkConnectionCount(wanted.limits().maxConnections());
        if (wanted.https()) loadCertificates(wanted.certificates());
        if (!server.isStarted()) server.start();
        accessLog(accessLogOn);

        // each listener is compared with what it is bound to, so one that failed to bind is tried again next time
        String httpAt = wanted.host() + ":" + wanted.httpPort();
        if (http == null || !httpAt.equals(bound(http))) http = replace(http, newHttpConnector(wanted));
        String httpsAt = wanted.https() ? wanted.host() + ":" + wanted.httpsPort() : null;
        if (!java.util.Objects.equals(httpsAt, https == null ? null : bound(https))) {
            https = replace(https, httpsAt == null ? null : newHttpsConnector(wanted));
        }
        for (ServerConnector c : new ServerConnector[] {http, https}) {
            if (c != null) c.setIdleTimeout(wanted.timeouts().clientIdle().toMillis());
        }
    }

    private static String bound(ServerConnector c) {
        return c.getHost() + ":" + c.getPort();
    }

    private void loadCertificates(List<ProxyCertificate> certificates) throws Exception {
        if (loadedCertificates != null && loadedCertificates.equals(certificates)) return;
        KeyStore store = PemKeyStore.of(certificates);
        if (tls.isStarted()) {
            tls.reload(f -> f.setKeyStore(store));
            LOG.info("proxy certificates reloaded: {}", certificates.stream().map(ProxyCertificate::name).toList());
        } else {
            tls.setKeyStore(store);
            tls.setKeyStorePassword(PemKeyStore.PASSWORD);
        }
        loadedCertificates = certificates;
    }

    private ServerConnector newHttpConnector(Listeners l) {
        ServerConnector c = new ServerConnector(server, 1, 1, new HttpConnectionFactory(httpConfig), new HTTP2CServerConnectionFactory(httpConfig));
        c.setHost(l.host());
        c.setPort(l.httpPort());
        c.setName("http");
        return c;
    }

    private ServerConnector newHttpsConnector(Listeners l) {
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(httpsConfig);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol("http/1.1");
        ServerConnector c = new ServerConnector(server, 1, 1, new SslConnectionFactory(tls, alpn.getProtocol()), alpn, h2,
                new HttpConnectionFactory(httpsConfig));
        c.setHost(l.host());
        c.setPort(l.httpsPort());
        c.setName("https");
        return c;
    }

    /** Opens the new listener before closing the old one, so a failure to bind leaves the old one serving. */
    private ServerConnector replace(ServerConnector old, ServerConnector next) throws Exception {
        if (next != null) {
            server.addConnector(next);
            try {
                next.start();
            } catch (Exception e) {
                server.removeConnector(next);
                throw new IllegalStateException("cannot listen on " + next.getHost() + ":" + next.getPort() + ": " + e.getMessage(), e);
            }
            LOG.info("proxy listening on {}:{} ({})", next.getHost(), next.getPort(), next.getProtocols());
        }
        if (old != null) {
            old.stop();
            server.removeConnector(old);
            LOG.info("proxy stopped listening on {}:{}", old.getHost(), old.getPort());
        }
        return next;
    }

    private void accessLog(boolean on) {
        if (on && accessLog == null) {
            accessLog = new AccessLog(accessLogFile);
        } else if (!on && accessLog != null) {
            accessLog.close();
            accessLog = null;
        }
        proxy.accessLog(accessLog);
    }

    /** The listeners as {@code http 127.0.1.1:8080 (http/1.1, h2c)}, for the shell. */
    public synchronized List<String> describeListeners() {
        return java.util.stream.Stream.of(http, https).filter(Objects::nonNull)
                .map(c -> c.getName() + " " + c.getHost() + ":" + c.getLocalPort() + " " + c.getProtocols())
                .toList();
    }

    public int openConnections() {
        return connectionLimit.getNetworkConnectionCount();
    }

    @Override
    public synchronized void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("proxy server did not stop cleanly", e);
        }
        if (accessLog != null) accessLog.close();
    }
}
