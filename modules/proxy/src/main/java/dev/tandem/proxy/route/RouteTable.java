package dev.tandem.proxy.route;

import dev.tandem.config.ProxyRoute;
import dev.tandem.proxy.pool.BackendPool;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which pool a request goes to, by host and path prefix. Exact host names are tried first, then
 * wildcards ({@code *.example.com}, the longest suffix first), then routes for any host; within each,
 * the longest matching path prefix wins.
 */
public final class RouteTable {
    public static final RouteTable EMPTY = new RouteTable(List.of(), Map.of());

    /** A route with the pool it leads to, as this version has it. */
    public record Route(ProxyRoute config, BackendPool pool) {}

    private final Map<String, List<Route>> exact = new HashMap<>();
    private final List<Map.Entry<String, List<Route>>> wildcards = new ArrayList<>();
    private final List<Route> anyHost = new ArrayList<>();

    public RouteTable(List<ProxyRoute> routes, Map<String, BackendPool> pools) {
        Map<String, List<Route>> bySuffix = new HashMap<>();
        for (ProxyRoute config : routes) {
            BackendPool pool = pools.get(config.pool());
            if (pool == null) continue; // the config rule refuses this; never route to nothing
            Route route = new Route(config, pool);
            if (config.hosts().isEmpty()) anyHost.add(route);
            for (String host : config.hosts()) {
                String h = normalize(host);
                if (h.startsWith("*.")) {
                    bySuffix.computeIfAbsent(h.substring(1), k -> new ArrayList<>()).add(route);
                } else {
                    exact.computeIfAbsent(h, k -> new ArrayList<>()).add(route);
                }
            }
        }
        Comparator<Route> longestPathFirst = Comparator.comparingInt((Route r) -> r.config().path().length()).reversed();
        exact.values().forEach(list -> list.sort(longestPathFirst));
        bySuffix.values().forEach(list -> list.sort(longestPathFirst));
        anyHost.sort(longestPathFirst);
        wildcards.addAll(bySuffix.entrySet());
        wildcards.sort(Comparator.comparingInt((Map.Entry<String, List<Route>> e) -> e.getKey().length()).reversed());
    }

    /** The route for this request, or null. */
    public Route match(String host, String path) {
        String h = host == null ? "" : normalize(host);
        String p = path == null || path.isEmpty() ? "/" : path;
        Route found = byPath(exact.get(h), p);
        if (found != null) return found;
        for (Map.Entry<String, List<Route>> w : wildcards) {
            // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com"
            if (h.length() > w.getKey().length() && h.endsWith(w.getKey())) {
                found = byPath(w.getValue(), p);
                if (found != null) return found;
            }
        }
        return byPath(anyHost, p);
    }

    private static Route byPath(List<Route> routes, String path) {
        if (routes == null) return null;
        for (Route r : routes) if (path.startsWith(r.config().path())) return r;
        return null;
    }

    /** Host names compare without case and without a trailing dot. */
    static String normalize(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
