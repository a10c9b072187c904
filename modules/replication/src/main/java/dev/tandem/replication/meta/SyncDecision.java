package dev.tandem.replication.meta;

import java.util.Collections;

/**
 * What two replicas must do when they connect, derived from their {@link GenerationIds} alone
 * (DRBD's {@code drbd_uuid_compare}). Every value is seen from "self"; the peer computing the same
 * comparison gets the {@link #mirror()}.
 */
public enum SyncDecision {
    /** Same data: nothing to resync. */
    NONE,
    /** Nobody ever wrote either replica: the cluster picks the first primary ({@link GenerationIds#initialPrimary}) and decides again. */
    BOTH_JUST_CREATED,
    /** Self is newer; the blocks in the two bitmaps (self's for the peer, the peer's for self) differ. */
    BECOME_SOURCE_BITMAP,
    /** The peer is newer; the blocks in the two bitmaps differ. */
    BECOME_TARGET_BITMAP,
    /** Self descends from the peer's data but no bitmap covers the difference: copy every block. */
    BECOME_SOURCE_FULL,
    /** The peer descends from self's data but no bitmap covers the difference: receive every block. */
    BECOME_TARGET_FULL,
    /** Both changed the data since a common generation (split brain): an operator must choose. */
    DIVERGED,
    /** No common generation is known: the replicas hold different data sets. */
    UNRELATED;

    /** The decision the peer reaches for the same pair. */
    public SyncDecision mirror() {
        return switch (this) {
            case BECOME_SOURCE_BITMAP -> BECOME_TARGET_BITMAP;
            case BECOME_TARGET_BITMAP -> BECOME_SOURCE_BITMAP;
            case BECOME_SOURCE_FULL -> BECOME_TARGET_FULL;
            case BECOME_TARGET_FULL -> BECOME_SOURCE_FULL;
            default -> this;
        };
    }

    public boolean isSource() {
        return this == BECOME_SOURCE_BITMAP || this == BECOME_SOURCE_FULL;
    }

    public boolean isTarget() {
        return this == BECOME_TARGET_BITMAP || this == BECOME_TARGET_FULL;
    }

    public boolean isFullSync() {
        return this == BECOME_SOURCE_FULL || this == BECOME_TARGET_FULL;
    }

    /** True when the replicas must not replicate until someone (an operator, the cluster) intervenes. */
    public boolean needsIntervention() {
        return this == DIVERGED || this == UNRELATED || this == BOTH_JUST_CREATED;
    }

    /** {@link #decide(String, GenerationIds, boolean, String, GenerationIds, boolean)} when neither side is a crashed primary. */
    public static SyncDecision decide(String self, GenerationIds mine, String peer, GenerationIds theirs) {
        return decide(self, mine, false, peer, theirs, false);
    }

    /**
     * Compares two replicas' generations. The rules, in order (each pair is checked in both
     * directions at once so that the answer is always the mirror of the peer's):
     * <ol>
     *   <li>both just created: {@link #BOTH_JUST_CREATED}; one just created: full resync from the other;</li>
     *   <li>same current generation: {@link #NONE} — unless one side is a crashed primary: the
     *       blocks in its activity log may differ, so it is the bitmap source (and starts a new
     *       generation first: {@link GenerationIds#beforeResyncAsSource}); both crashed primaries
     *       cannot happen with one primary at a time: {@link #DIVERGED};</li>
     *   <li>my bitmap id for the peer is its current: I am bitmap source (and mirrored); both at
     *       once cannot happen in a consistent history: {@link #DIVERGED};</li>
     *   <li>my history (or a bitmap id) holds the peer's current: full source (and mirrored);</li>
     *   <li>the two bitmap ids for each other are equal, or the lineages share any generation:
     *       {@link #DIVERGED} — both sides moved on from a common point;</li>
     *   <li>otherwise {@link #UNRELATED}.</li>
     * </ol>
     *
     * @param self               this replica's node name
     * @param mine               this replica's ids
     * @param selfCrashedPrimary this replica is a crashed primary ({@link ReplicaMetadata#isCrashedPrimary()})
     * @param peer               the peer's node name
     * @param theirs             the peer's ids
     * @param peerCrashedPrimary the peer is a crashed primary (it says so in the handshake)
     */
    public static SyncDecision decide(String self, GenerationIds mine, boolean selfCrashedPrimary,
                                      String peer, GenerationIds theirs, boolean peerCrashedPrimary) {
        if (mine.isJustCreated() || theirs.isJustCreated()) {
            if (mine.isJustCreated() && theirs.isJustCreated()) {
                return BOTH_JUST_CREATED;
            }
            return mine.isJustCreated() ? BECOME_TARGET_FULL : BECOME_SOURCE_FULL;
        }
        if (mine.current() == theirs.current()) {
            return sameGeneration(selfCrashedPrimary, peerCrashedPrimary);
        }
        SyncDecision byBitmap = oneSided(mine.bitmapFor(peer) == theirs.current(),
                theirs.bitmapFor(self) == mine.current(), BECOME_SOURCE_BITMAP);
        if (byBitmap != null) {
            return byBitmap;
        }
        SyncDecision byHistory = oneSided(mine.ancestors().contains(theirs.current()),
                theirs.ancestors().contains(mine.current()), BECOME_SOURCE_FULL);
        if (byHistory != null) {
            return byHistory;
        }
        long mineForPeer = mine.bitmapFor(peer);
        if (mineForPeer != 0 && mineForPeer == theirs.bitmapFor(self)) {
            return DIVERGED;
        }
        if (!Collections.disjoint(mine.ancestors(), theirs.ancestors())) {
            return DIVERGED;
        }
        return UNRELATED;
    }

    private static SyncDecision sameGeneration(boolean selfCrashedPrimary, boolean peerCrashedPrimary) {
        if (selfCrashedPrimary && peerCrashedPrimary) {
            return DIVERGED;
        }
        if (selfCrashedPrimary) {
            return BECOME_SOURCE_BITMAP;
        }
        return peerCrashedPrimary ? BECOME_TARGET_BITMAP : NONE;
    }

    /** {@code source} if only self qualifies, its mirror if only the peer does, null if neither. */
    private static SyncDecision oneSided(boolean self, boolean peer, SyncDecision source) {
        if (self && peer) {
            return DIVERGED;
        }
        if (self) {
            return source;
        }
        return peer ? source.mirror() : null;
    }
}
