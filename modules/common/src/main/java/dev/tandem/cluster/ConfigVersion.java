package dev.tandem.cluster;

import dev.tandem.config.ClusterConfig;
import java.time.Instant;

/**
 * One applied version of the cluster document, with who committed it, from where, when and why.
 * Version 0 is the seed a node starts from before the cluster has committed anything.
 */
public record ConfigVersion(long version, ClusterConfig config, String author, String origin, Instant committedAt, String comment) {

    public static ConfigVersion seed(ClusterConfig config) {
        return new ConfigVersion(0, config, "seed", "node.yaml", Instant.EPOCH, "seed document, not committed yet");
    }
}
