package dev.tandem.proxy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ProxyPool;
import dev.tandem.config.ProxyRoute;
import dev.tandem.proxy.pool.BackendPool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    private static final Map<String, BackendPool> POOLS = Map.of(
            "web", pool("web"), "api", pool("api"), "static", pool("static"), "fallback", pool("fallback"), "wild", pool("wild"));

    private final RouteTable table = new RouteTable(List.of(
            new ProxyRoute("web", List.of("www.example.com", "example.com"), "/", "web"),
            new ProxyRoute("api", List.of("www.example.com"), "/api/", "api"),
            new ProxyRoute("static", List.of("www.example.com"), "/api/static/", "static"),
            new ProxyRoute("wild", List.of("*.example.com"), "/", "wild"),
            new ProxyRoute("any", List.of(), "/", "fallback")), POOLS);

    @Test
    void theLongestPathPrefixWinsForAHost() {
        assertThat(pool("www.example.com", "/")).isEqualTo("web");
        assertThat(pool("www.example.com", "/api/users")).isEqualTo("api");
        assertThat(pool("www.example.com", "/api/static/x.css")).isEqualTo("static");
        assertThat(pool("www.example.com", "/apix")).isEqualTo("web");
    }

    @Test
    void hostsCompareWithoutCaseOrTrailingDot() {
        assertThat(pool("WWW.Example.COM.", "/api/")).isEqualTo("api");
    }

    @Test
    void aWildcardTakesSubdomainsButNotTheDomainItself() {
        assertThat(pool("shop.example.com", "/")).isEqualTo("wild");
        assertThat(pool("a.b.example.com", "/")).isEqualTo("wild");
        assertThat(pool("example.com", "/")).isEqualTo("web");
        assertThat(pool("badexample.com", "/")).isEqualTo("fallback");
    }

    @Test
    void anUnknownHostTakesTheAnyHostRouteOrNothing() {
        assertThat(pool("other.test", "/x")).isEqualTo("fallback");
        RouteTable strict = new RouteTable(List.of(new ProxyRoute("web", List.of("www.example.com"), "/app", "web")), POOLS);
        assertThat(strict.match("other.test", "/app")).isNull();
        assertThat(strict.match("www.example.com", "/")).as("no route for this path").isNull();
    }

    @Test
    void aRouteToAMissingPoolIsLeftOut() {
        RouteTable t = new RouteTable(List.of(new ProxyRoute("x", List.of(), "/", "nope")), POOLS);
        assertThat(t.match("any", "/")).isNull();
    }

    private String pool(String host, String path) {
        RouteTable.Route r = table.match(host, path);
        return r == null ? null : r.pool().config().name();
    }

    private static BackendPool pool(String name) {
        return new BackendPool(new ProxyPool(name, null, List.of(), null, null), List.of());
    }
}
