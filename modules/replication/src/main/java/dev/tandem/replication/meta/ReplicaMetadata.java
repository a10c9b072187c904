package dev.tandem.replication.meta;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.Objects;

/**
 * Everything a replica must remember across restarts besides its blocks and bitmaps; stored as
 * JSON by {@link MetadataFile}.
 *
 * @param ids           the generation identifiers
 * @param newestEpoch   the highest failover epoch this replica has seen; it refuses writes and
 *                      promotions from older epochs (that is how a deposed primary is fenced)
 * @param disk          the state of the local data
 * @param sizeBytes     the volume size
 * @param blockSize     the resync / bitmap granularity in bytes
 * @param cleanShutdown false from the moment this replica starts serving as primary (saved together
 *                      with {@link ActivityLog#markInUse()}) until an orderly demotion or shutdown
 *                      (after {@link ActivityLog#markClean()}); so false at start-up means it stopped
 *                      uncleanly while primary: a "crashed primary" for {@link SyncDecision#decide}.
 *                      After such a crash it stays false, across restarts and while the replica is
 *                      secondary, until the replica is promoted, finishes a resync as target, or
 *                      starts one as source (see the call protocol in {@link GenerationIds}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReplicaMetadata(GenerationIds ids, long newestEpoch, DiskState disk, long sizeBytes,
                              int blockSize, boolean cleanShutdown) {
    public static final int DEFAULT_BLOCK_SIZE = 4096;

    public ReplicaMetadata {
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(disk, "disk");
        if (sizeBytes < 0 || blockSize <= 0 || Integer.bitCount(blockSize) != 1 || newestEpoch < 0) {
            throw new IllegalArgumentException("bad replica metadata: size " + sizeBytes + ", block size "
                    + blockSize + ", epoch " + newestEpoch);
        }
    }

    /** A replica just created for a volume: no data, no epoch seen. */
    public static ReplicaMetadata fresh(long sizeBytes, int blockSize) {
        return new ReplicaMetadata(GenerationIds.justCreated(), 0, DiskState.INCONSISTENT, sizeBytes, blockSize, true);
    }

    /** The number of blocks, so the size of each peer's {@link DirtyBitmap}. */
    public long blocks() {
        return (sizeBytes + blockSize - 1) / blockSize;
    }

    /** True if this replica stopped uncleanly while primary and has not been reconciled since. */
    @JsonIgnore
    public boolean isCrashedPrimary() {
        return !cleanShutdown;
    }

    /** True if a request carrying {@code epoch} may be obeyed (it is not older than the newest seen). */
    public boolean accepts(long epoch) {
        return epoch >= newestEpoch;
    }

    public ReplicaMetadata withIds(GenerationIds newIds) {
        return new ReplicaMetadata(newIds, newestEpoch, disk, sizeBytes, blockSize, cleanShutdown);
    }

    /** Remembers {@code epoch} if it is newer than any seen; never goes back. */
    public ReplicaMetadata withEpochSeen(long epoch) {
        return new ReplicaMetadata(ids, Math.max(newestEpoch, epoch), disk, sizeBytes, blockSize, cleanShutdown);
    }

    public ReplicaMetadata withDisk(DiskState newDisk) {
        return new ReplicaMetadata(ids, newestEpoch, newDisk, sizeBytes, blockSize, cleanShutdown);
    }

    public ReplicaMetadata withCleanShutdown(boolean clean) {
        return new ReplicaMetadata(ids, newestEpoch, disk, sizeBytes, blockSize, clean);
    }
}
