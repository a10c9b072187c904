package dev.tandem.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.config.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which replica should take over a volume whose primary is gone: pure, so every rule is unit-tested.
 * Only a replica that is reachable, not committed as outdated, and itself reports consistent data
 * may be promoted automatically; an out-of-date one only by an operator's {@code --force}.
 */
public final class FailoverPlanner {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FailoverPlanner() {}

    /** The choice, with what was seen, for the history: a candidate, or why there is none. */
    public record Choice(Optional<String> node, String reasoning) {}

    public static Choice choose(Volume volume, Membership membership, Map<String, NodeObservations> observed) {
        String primary = volume.effectivePrimary();
        List<String> seen = new ArrayList<>();
        for (Volume.Replica r : volume.replicas()) {
            String node = r.name();
            if (node.equals(primary)) continue;
            String why = unfit(volume, node, membership, observed);
            if (why == null) {
                seen.add(node + ": up to date and reachable");
                return new Choice(Optional.of(node), String.join("; ", seen));
            }
            seen.add(node + ": " + why);
        }
        return new Choice(Optional.empty(), seen.isEmpty() ? "the volume has no other replica" : String.join("; ", seen));
    }

    /** Why {@code node} may not be promoted automatically, or null if it may. */
    static String unfit(Volume volume, String node, Membership membership, Map<String, NodeObservations> observed) {
        boolean reachable = membership.members().stream().anyMatch(m -> m.name().equals(node) && m.reachable());
        if (!reachable) return "unreachable";
        if (volume.outdated().contains(node)) return "outdated (the primary wrote on without it)";
        NodeObservations o = observed.get(node);
        String raw = o == null ? null : o.values().get("volume." + volume.name());
        if (raw == null || o.stale()) return "has not reported its replica";
        try {
            JsonNode status = JSON.readTree(raw);
            String disk = status.path("disk").asText();
            if (!disk.equals("up-to-date")) return "its disk is " + disk;
        } catch (Exception e) {
            return "unreadable report";
        }
        return null;
    }

    /** True when {@code node} is in the view and reachable. */
    static boolean reachable(Membership membership, String node) {
        for (Member m : membership.members()) if (m.name().equals(node)) return m.reachable();
        return false;
    }
}
