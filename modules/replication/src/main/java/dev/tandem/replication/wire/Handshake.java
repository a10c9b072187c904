package dev.tandem.replication.wire;

import dev.tandem.replication.meta.GenerationIds;

/** The JSON bodies of the replication stream's control frames. */
public final class Handshake {
    private Handshake() {}

    /** The primary introduces itself. */
    public record Hello(String volume, String from, long epoch, GenerationIds ids, long sizeBytes, int blockSize) {}

    /**
     * The secondary's answer: its state, or why it refuses the link.
     *
     * @param freshFile its data is a sparse file it created itself and nobody wrote (all zeros)
     * @param crashedPrimary it stopped uncleanly while primary and has not been resynced since
     */
    public record Reply(String refused, long newestEpoch, GenerationIds ids, String disk, boolean freshFile, boolean crashedPrimary) {
        public static Reply refusal(String why, long newestEpoch) {
            return new Reply(why, newestEpoch, null, null, false, false);
        }
    }

    public record Refusal(String reason) {}

    public record SyncStart(long blocks) {}

    public record SyncDone(GenerationIds ids) {}
}
