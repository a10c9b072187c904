package dev.tandem.proxy.pool;

import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyPool;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Builds each config version's pools for this proxy node, handing a member that kept its address the
 * same {@link BackendState} as before: requests in flight stay counted and health stays known.
 */
public final class Pools {
    private record Key(String pool, String member, InetSocketAddress address) {}

    private Map<Key, BackendState> states = new HashMap<>();

    /**
     * @param siteOrder the sites in the order this node prefers them: its own first
     * @param serving which members may take requests at all (the others are left out of the pools)
     */
    public synchronized Map<String, BackendPool> build(ProxyConfig proxy, List<String> siteOrder, Predicate<ProxyPool.Member> serving) {
        Map<Key, BackendState> nextStates = new HashMap<>();
        Map<String, BackendPool> pools = new LinkedHashMap<>();
        for (ProxyPool pool : proxy.pools()) {
            Map<String, List<Backend>> bySite = new LinkedHashMap<>();
            siteOrder.forEach(site -> bySite.put(site, new ArrayList<>()));
            for (ProxyPool.Member member : pool.members()) {
                if (!serving.test(member)) continue;
                InetSocketAddress address = MemberAddress.parse(member.address());
                Key key = new Key(pool.name(), member.name(), address);
                BackendState state = states.get(key);
                if (state == null) state = new BackendState(pool.name() + "/" + member.name());
                nextStates.put(key, state);
                bySite.computeIfAbsent(Objects.requireNonNullElse(member.site(), ""), s -> new ArrayList<>())
                        .add(new Backend(pool.name(), member, address, state));
            }
            List<List<Backend>> tiers = bySite.values().stream().filter(t -> !t.isEmpty()).map(List::copyOf).toList();
            pools.put(pool.name(), new BackendPool(pool, tiers));
        }
        states = nextStates;
        return pools;
    }

    /**
     * This node's site first, then the configured preference, then every other site in document order.
     */
    public static List<String> siteOrder(String ownSite, List<String> preference, List<String> allSites) {
        List<String> order = new ArrayList<>();
        order.add(ownSite);
        for (String s : preference) if (!order.contains(s)) order.add(s);
        for (String s : allSites) if (!order.contains(s)) order.add(s);
        return order;
    }
}
