package dev.tandem.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code proxy} section: the listeners every services node opens on its public address, the
 * routes (host name and path prefix) and the pools of backends they lead to.
 *
 * @param httpPort plain HTTP listener (80 unless set)
 * @param httpsPort TLS listener (443 unless set); opened only when there is at least one certificate
 * @param sitePreference the order in which other sites' members are tried when none of the proxy's own
 *     site is healthy (default: the order of {@code sites})
 * @param accessLog one line per request in {@code proxy-access.log} in the node's data directory (default on)
 */
public record ProxyConfig(
        Integer httpPort,
        Integer httpsPort,
        List<String> sitePreference,
        Timeouts timeouts,
        Limits limits,
        List<ProxyCertificate> certificates,
        List<ProxyRoute> routes,
        List<ProxyPool> pools,
        Boolean accessLog) {
    public static final int DEFAULT_HTTP_PORT = 80;
    public static final int DEFAULT_HTTPS_PORT = 443;

    public ProxyConfig {
        httpPort = httpPort == null ? DEFAULT_HTTP_PORT : httpPort;
        httpsPort = httpsPort == null ? DEFAULT_HTTPS_PORT : httpsPort;
        sitePreference = sitePreference == null ? List.of() : List.copyOf(sitePreference);
        timeouts = timeouts == null ? new Timeouts(null, null, null) : timeouts;
        limits = limits == null ? new Limits(null, null, null) : limits;
        certificates = certificates == null ? List.of() : List.copyOf(certificates);
        routes = routes == null ? List.of() : List.copyOf(routes);
        pools = pools == null ? List.of() : List.copyOf(pools);
        accessLog = accessLog == null || accessLog;
    }

    public ProxyConfig() {
        this(null, null, null, null, null, null, null, null, null);
    }

    public Optional<ProxyPool> pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public ProxyConfig withPool(ProxyPool pool) {
        List<ProxyPool> next = pools.stream().map(p -> p.name().equals(pool.name()) ? pool : p).toList();
        return new ProxyConfig(httpPort, httpsPort, sitePreference, timeouts, limits, certificates, routes, next, accessLog);
    }

    /**
     * @param connect how long to wait for a backend to accept a connection before trying another
     * @param clientIdle a client connection silent for this long is closed (idle keep-alive, slow senders)
     * @param backendIdle a backend that sends nothing for this long mid-response fails the request (504)
     */
    public record Timeouts(Duration connect, Duration clientIdle, Duration backendIdle) {
        public Timeouts {
            connect = connect == null ? Duration.ofSeconds(5) : connect;
            clientIdle = clientIdle == null ? Duration.ofSeconds(30) : clientIdle;
            backendIdle = backendIdle == null ? Duration.ofSeconds(60) : backendIdle;
        }
    }

    /**
     * @param maxConnections client connections per listener; more are not accepted until some close
     * @param maxHeaderBytes request line and headers; larger requests get 431
     * @param maxBodyBytes request body; larger gets 413 (0: no limit)
     */
    public record Limits(Integer maxConnections, Integer maxHeaderBytes, Long maxBodyBytes) {
        public Limits {
            maxConnections = maxConnections == null ? 10_000 : maxConnections;
            maxHeaderBytes = maxHeaderBytes == null ? 16 * 1024 : maxHeaderBytes;
            maxBodyBytes = maxBodyBytes == null ? 0L : maxBodyBytes;
        }
    }
}
