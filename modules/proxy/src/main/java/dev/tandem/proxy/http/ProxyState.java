package dev.tandem.proxy.http;

import dev.tandem.config.ProxyConfig;
import dev.tandem.proxy.pool.BackendPool;
import dev.tandem.proxy.route.RouteTable;
import java.util.Map;

/** Everything a request reads, swapped whole when a config version is applied: requests never wait on a lock. */
public record ProxyState(RouteTable routes, Map<String, BackendPool> pools, ProxyConfig config, long version) {
    public static final ProxyState EMPTY = new ProxyState(RouteTable.EMPTY, Map.of(), new ProxyConfig(), 0);
}
