package dev.tandem.proxy.pool;

import dev.tandem.config.ProxyPool;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pool as one proxy node sees it: its members grouped in tiers by site, this node's own site first,
 * then the others in preference order. A request goes to the first tier with a usable member.
 */
public final class BackendPool {
    private final ProxyPool config;
    private final List<List<Backend>> tiers;
    private final AtomicInteger turn = new AtomicInteger();

    public BackendPool(ProxyPool config, List<List<Backend>> tiers) {
        this.config = config;
        this.tiers = tiers;
    }

    public ProxyPool config() {
        return config;
    }

    public List<Backend> members() {
        return tiers.stream().flatMap(List::stream).toList();
    }

    /** The member for a new request, never {@code excluded} (the one that just failed it); null if none is usable. */
    public Backend pick(Backend excluded) {
        for (List<Backend> tier : tiers) {
            Backend chosen = config.balance() == ProxyPool.Balance.ROUND_ROBIN ? roundRobin(tier, excluded) : leastRequests(tier, excluded);
            if (chosen != null) return chosen;
        }
        return null;
    }

    /**
     * Fewest requests in flight per unit of weight. The scan starts at a rotating member, so that
     * between equally loaded members (an idle pool) the requests still spread.
     */
    private Backend leastRequests(List<Backend> tier, Backend excluded) {
        int n = tier.size();
        int start = n > 1 ? Math.floorMod(turn.getAndIncrement(), n) : 0;
        Backend best = null;
        long bestLoad = 0;
        int bestWeight = 1;
        for (int i = 0; i < n; i++) {
            Backend b = tier.get((start + i) % n);
            if (b == excluded || !b.usable()) continue;
            long load = b.state().inFlight();
            int weight = b.member().weight();
            if (best == null || load * bestWeight < bestLoad * weight) {
                best = b;
                bestLoad = load;
                bestWeight = weight;
            }
        }
        return best;
    }

    /** Each usable member in turn, as many turns per round as its weight. */
    private Backend roundRobin(List<Backend> tier, Backend excluded) {
        int total = 0;
        for (Backend b : tier) if (b != excluded && b.usable()) total += b.member().weight();
        if (total == 0) return null;
        int ticket = Math.floorMod(turn.getAndIncrement(), total);
        for (Backend b : tier) {
            if (b == excluded || !b.usable()) continue;
            ticket -= b.member().weight();
            if (ticket < 0) return b;
        }
        return leastRequests(tier, excluded); // a member changed state between the two passes
    }
}
