package dev.tandem.config;

import java.util.List;

/**
 * Requests whose host is one of {@code hosts} (any host when empty; {@code *.example.com} matches
 * one or more labels) and whose path starts with {@code path} go to {@code pool}. The longest
 * matching path wins; a route naming the host wins over a route for any host.
 */
public record ProxyRoute(String name, List<String> hosts, String path, String pool) {
    public ProxyRoute {
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
        path = path == null ? "/" : path;
    }
}
