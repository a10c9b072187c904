package dev.tandem.replication.volume;

import java.util.Map;

/**
 * What a replica publishes as observed state, and what {@code show volumes} prints.
 *
 * @param epoch the epoch it serves under as primary, else the newest it has seen
 * @param generation its current data generation id (hex)
 * @param problem why it is fenced or refused a peer, if it did
 * @param primary as secondary: the primary streaming to it now
 */
public record ReplicaStatus(String role, long epoch, String disk, String generation, String problem, String primary,
        Map<String, Peer> peers) {

    /**
     * @param state in sync, resyncing, connecting, refused: why
     * @param outOfSyncBytes bytes the peer lacks, by this replica's bitmap
     * @param resyncPercent progress of a running resync
     */
    public record Peer(String state, long outOfSyncBytes, Integer resyncPercent) {}
}
