package dev.tandem.dns.health;

import dev.tandem.cluster.NodeObservations;
import dev.tandem.config.DnsPool;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a pool answers, from the votes of every checking node: a member is up when at least half of
 * the nodes that report on it see it up (so one site's broken uplink does not take a healthy member
 * out for everybody), or when nobody has reported yet. The answer is the up members of the best
 * priority tier; if none is up anywhere, the pool's policy decides.
 */
public final class PoolAnswers {
    /** One member's standing: its votes, by checking node. */
    public record MemberView(DnsPool.Member member, boolean up, Map<String, String> votes) {}

    private PoolAnswers() {}

    public static List<MemberView> views(DnsPool pool, Map<String, NodeObservations> observations) {
        List<MemberView> out = new ArrayList<>();
        for (DnsPool.Member m : pool.members()) {
            String key = HealthChecker.key(pool.name(), m.name());
            Map<String, String> votes = new TreeMap<>();
            int up = 0;
            int down = 0;
            for (NodeObservations node : observations.values()) {
                String vote = node.values().get(key);
                if (vote == null || node.stale()) continue;
                votes.put(node.node(), vote);
                if (vote.equals("up")) up++;
                else down++;
            }
            out.add(new MemberView(m, up >= down, votes));
        }
        return out;
    }

    /** The addresses to answer with, best tier first, in the configured order. */
    public static List<InetAddress> answer(DnsPool pool, List<MemberView> views) {
        Map<Integer, List<MemberView>> tiers = new TreeMap<>();
        for (MemberView v : views) tiers.computeIfAbsent(v.member().priority(), k -> new ArrayList<>()).add(v);
        for (List<MemberView> tier : tiers.values()) {
            List<MemberView> up = tier.stream().filter(MemberView::up).toList();
            if (up.isEmpty()) continue;
            List<MemberView> weighted = up.stream().filter(v -> v.member().weight() > 0).toList();
            return addresses(weighted.isEmpty() ? up : weighted);
        }
        return switch (pool.whenAllDown()) {
            case TOP_TIER -> tiers.isEmpty() ? List.of() : addresses(tiers.values().iterator().next());
            case ALL -> addresses(views);
            case NONE -> List.of();
        };
    }

    /**
     * What a pool answers with no health information: its best tier, standbys (weight 0) left out as
     * {@link #answer} leaves them out. This is what zone transfers carry.
     */
    public static List<InetAddress> preferredTier(DnsPool pool) {
        return answer(pool, pool.members().stream().map(m -> new MemberView(m, true, Map.of())).toList());
    }

    private static List<InetAddress> addresses(List<MemberView> views) {
        Map<String, InetAddress> out = new LinkedHashMap<>();
        for (MemberView v : views) {
            try {
                out.putIfAbsent(v.member().address(), InetAddress.getByName(v.member().address()));
            } catch (UnknownHostException e) {
                // the config rule only lets literal addresses through; nothing to answer with here
            }
        }
        return List.copyOf(out.values());
    }
}
