package dev.tandem.replication.meta;

/** What a replica knows about the quality of its own data. */
public enum DiskState {
    /** The newest data this replica knows of; may be promoted. */
    UP_TO_DATE,
    /** Consistent but known to lack newer writes (a peer moved on without it); promote only by force. */
    OUTDATED,
    /** Not usable: a resync target mid-resync, or a replica nobody has written yet. */
    INCONSISTENT,
    /** Both this replica and a peer wrote independently (split brain); waits for an operator. */
    DIVERGED
}
