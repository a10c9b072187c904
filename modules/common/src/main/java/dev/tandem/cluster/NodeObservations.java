package dev.tandem.cluster;

import java.time.Instant;
import java.util.Map;

/**
 * What one node last published about the world (its own applied version, health results, tunnel
 * states...). Stale once the node has left this node's view: kept, but no longer current.
 */
public record NodeObservations(String node, Map<String, String> values, Instant publishedAt, boolean stale) {
    public NodeObservations {
        values = Map.copyOf(values);
    }
}
