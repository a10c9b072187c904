package dev.tandem.replication.volume;

import java.util.Set;

/** The safety decisions a primary commits through raft about its own volume. */
public interface Decisions {
    /**
     * Commits {@code peers} as outdated, provided this node is still the primary under {@code epoch}.
     *
     * @return the committed config version (or the running one if nothing was left to do); -1 if this
     *     node is no longer the primary under that epoch, and so must not acknowledge anything
     * @throws Exception if the commit could not be made (no quorum, no leader in time)
     */
    long markOutdated(String volume, long epoch, Set<String> peers) throws Exception;

    /** Takes {@code peer} off the outdated list after a completed resync, if still primary under {@code epoch}. */
    void markUpToDate(String volume, long epoch, String peer) throws Exception;
}
