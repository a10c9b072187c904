package dev.tandem.replication.meta;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * The generation identifiers of one replica (DRBD's "UUIDs"): they name versions of the data, so
 * that two replicas meeting again can tell, without comparing blocks, whether they hold the same
 * data, which one is newer, whether a bitmap-based resync suffices, or whether both wrote
 * independently (split brain). {@link SyncDecision#decide} makes that comparison.
 *
 * <ul>
 *   <li>{@code current}: the generation of this replica's data. A new one is started whenever the
 *       data is about to change in a way some replica that shares the current generation will not
 *       see. {@link #JUST_CREATED} marks a replica nobody has written.</li>
 *   <li>{@code bitmapByPeer}: per peer, the generation that peer had when this replica started
 *       recording in that peer's {@link DirtyBitmap} the blocks it changes; absent (0) means "in
 *       sync with that peer, not tracking".</li>
 *   <li>{@code history}: up to {@link #HISTORY_DEPTH} older generations of this data, newest
 *       first; used when no bitmap relates two replicas any more (a full resync is then needed).</li>
 * </ul>
 *
 * <p>Instances are immutable; each operation returns a new instance.
 *
 * <h2>Call protocol</h2>
 * Persist ({@link MetadataFile#save}) every changed instance before acting on it. To
 * <i>announce</i> is to send the new current generation to the peers connected and in sync, which
 * call {@link #followGeneration(long)} before they receive any data of that generation.
 * <ol>
 *   <li><b>Volume created:</b> every replica {@link #justCreated()}; the one the cluster designates
 *       as first primary {@link #initialPrimary} (a deliberate act, like {@code drbdadm primary
 *       --force}); the others take a full resync from it.</li>
 *   <li><b>Start-up after an unclean stop as primary</b> ({@code cleanShutdown} false): set the
 *       {@link ActivityLog#recoveredRanges()} in every peer's bitmap and save the bitmaps. The replica
 *       is a <i>crashed primary</i> in handshakes until it is promoted, finishes a resync as target,
 *       or starts one as source.</li>
 *   <li><b>A peer connection is lost</b> (any role, also mid-resync): {@link #startTracking(String)}.
 *       From then on every local change sets its blocks in that peer's bitmap — own writes,
 *       replicated writes, resync writes, and writes in flight that the peer did not acknowledge.</li>
 *   <li><b>Primary, before issuing a write</b> or acknowledging one a lost peer did not
 *       acknowledge: {@link #beforeWrite}; announce if it changed. It starts a generation only while
 *       a tracked peer shares the current one, so an idle primary losing a peer causes no false
 *       split brain.</li>
 *   <li><b>Promotion:</b> {@link #promote} with the peers not connected and in sync; announce. A
 *       generation starts at once if any peer is absent, so a crashed former primary that shares
 *       the current generation is never taken for "same data".</li>
 *   <li><b>Demotion:</b> nothing.</li>
 *   <li><b>Handshake:</b> both sides call {@link SyncDecision#decide(String, GenerationIds, boolean,
 *       String, GenerationIds, boolean)} (the answers mirror each other).
 *       <ul>
 *         <li>{@code NONE}: both {@link #peerInSync(String)} and clear their bitmaps for each other.</li>
 *         <li>A resync: it copies the union of both sides' bitmaps for each other (everything if
 *             full). The source first calls {@link #beforeResyncAsSource} and announces if it
 *             changed. The target keeps its ids while inconsistent, stops being in sync with its
 *             other peers ({@link #startTracking(String)} each) and sets the resynced blocks in every
 *             bitmap it keeps.</li>
 *         <li>{@code DIVERGED}/{@code UNRELATED}: no replication. An operator picks a victim whose
 *             ids become {@link #justCreated()}; it then takes a full resync from the survivor
 *             (and from no one else).</li>
 *       </ul></li>
 *   <li><b>Resync finished:</b> the source {@link #syncFinishedAsSource(String)}; the target
 *       {@link #syncFinishedAsTarget(String, GenerationIds)} with the source's ids at the end.</li>
 *   <li><b>Resync sources:</b> only the primary, or anyone while no primary runs. (A secondary
 *       syncing a third replica to the generation of a primary that keeps writing without it would
 *       make that replica look identical to the primary later.)</li>
 * </ol>
 */
public record GenerationIds(long current, Map<String, Long> bitmapByPeer, List<Long> history) {
    /** The current generation of a replica whose data nobody has written (the same value as DRBD). */
    public static final long JUST_CREATED = 4L;
    /** How many older generations are kept. */
    public static final int HISTORY_DEPTH = 4;

    /**
     * Normalises: the bitmap map keeps only real generations (0 and {@link #JUST_CREATED} mean "not
     * tracking"), sorted by peer for a stable JSON form; the history drops 0, {@link #JUST_CREATED},
     * the current generation and duplicates, and is cut to {@link #HISTORY_DEPTH}.
     */
    public GenerationIds {
        if (current == 0) {
            throw new IllegalArgumentException("the current generation must not be 0");
        }
        bitmapByPeer = normalizedBitmaps(bitmapByPeer);
        history = normalizedHistory(current, history);
    }

    /** A replica whose data nobody has written yet. */
    public static GenerationIds justCreated() {
        return new GenerationIds(JUST_CREATED, Map.of(), List.of());
    }

    /** The ids of the first primary of a never-synced volume: a real generation, nothing tracked. */
    public static GenerationIds initialPrimary(RandomGenerator random) {
        return justCreated().newGeneration(random);
    }

    /** True for a replica nobody has written (it can only be a full resync target). */
    @JsonIgnore
    public boolean isJustCreated() {
        return current == JUST_CREATED;
    }

    /** The generation {@code peer} had when tracking started, or 0 when in sync with it. */
    public long bitmapFor(String peer) {
        return bitmapByPeer.getOrDefault(peer, 0L);
    }

    /**
     * Starts recording changes for a peer that is no longer connected: its bitmap id becomes the
     * current generation, unless this replica already tracks it (its id then still names the
     * generation the peer has). No-op for a just-created replica, which has nothing to track from.
     */
    public GenerationIds startTracking(String peer) {
        Objects.requireNonNull(peer, "peer");
        if (isJustCreated() || bitmapFor(peer) != 0) {
            return this;
        }
        Map<String, Long> bitmaps = new TreeMap<>(bitmapByPeer);
        bitmaps.put(peer, current);
        return new GenerationIds(current, bitmaps, history);
    }

    /**
     * True when some tracked peer may still hold the current generation: writing now without a new
     * generation would let that peer later look identical while it lacks the write.
     */
    public boolean needsNewGeneration() {
        return bitmapByPeer.containsValue(current);
    }

    /** Starts a new random current generation; the old one goes to the front of the history. */
    public GenerationIds newGeneration(RandomGenerator random) {
        Objects.requireNonNull(random, "random");
        return new GenerationIds(freshId(random), bitmapByPeer, pushed(current, history));
    }

    /** What a primary calls before writing: a new generation only if {@link #needsNewGeneration()}. */
    public GenerationIds beforeWrite(RandomGenerator random) {
        return needsNewGeneration() ? newGeneration(random) : this;
    }

    /**
     * Promotion to primary: tracks every absent peer and, if there is one, starts a new generation
     * at once (see the call protocol). With every peer connected and in sync nothing
     * changes. A just-created replica cannot be promoted this way: use {@link #initialPrimary}.
     */
    public GenerationIds promote(Collection<String> absentPeers, RandomGenerator random) {
        if (isJustCreated()) {
            throw new IllegalStateException("a just-created replica has no data to serve; use initialPrimary");
        }
        return absentPeers.isEmpty() ? this : startGenerationWithout(absentPeers, random);
    }

    /**
     * Starts a new generation that {@code peers} will not share: tracks each of them (from the
     * current generation, unless already tracked), then starts the new generation.
     */
    public GenerationIds startGenerationWithout(Collection<String> peers, RandomGenerator random) {
        GenerationIds ids = this;
        for (String peer : peers) {
            ids = ids.startTracking(peer);
        }
        return ids.newGeneration(random);
    }

    /**
     * Called by the source before a resync starts. A no-op unless the source is a crashed primary:
     * its data then holds the blocks of its activity log, which other holders of its current
     * generation may lack, so before passing that data on it starts a new generation, leaving
     * behind every peer not in sync with it ({@code peersNotInSync}, which includes the target).
     * Afterwards it is no longer a crashed primary (its flag can be cleared).
     */
    public GenerationIds beforeResyncAsSource(boolean crashedPrimary, Collection<String> peersNotInSync,
                                              RandomGenerator random) {
        return crashedPrimary ? startGenerationWithout(peersNotInSync, random) : this;
    }

    /**
     * A peer connected and in sync adopts the new current generation announced by the replica it
     * is in sync with (the primary, or a crashed primary starting its recovery resync); its own
     * current becomes history. Its bitmap ids for other peers are kept.
     */
    public GenerationIds followGeneration(long primaryCurrent) {
        requireReal(primaryCurrent, "the announced current generation");
        if (primaryCurrent == current) {
            return this;
        }
        return new GenerationIds(primaryCurrent, bitmapByPeer, pushed(current, history));
    }

    /**
     * This replica and {@code peer} now hold the same data (a handshake said NONE, or a resync with
     * this replica as source finished): stop tracking the peer. The old bitmap id is kept as
     * history at the oldest end if the history does not know it and has room, so the lineage is
     * not forgotten.
     */
    public GenerationIds peerInSync(String peer) {
        long tracked = bitmapFor(peer);
        if (tracked == 0) {
            return this;
        }
        Map<String, Long> bitmaps = new TreeMap<>(bitmapByPeer);
        bitmaps.remove(peer);
        List<Long> older = history;
        if (tracked != current && !history.contains(tracked) && history.size() < HISTORY_DEPTH) {
            older = new ArrayList<>(history);
            older.add(tracked);
        }
        return new GenerationIds(current, bitmaps, older);
    }

    /** The source's side of a finished resync: the target is in sync now. */
    public GenerationIds syncFinishedAsSource(String target) {
        return peerInSync(target);
    }

    /**
     * The target's side of a finished resync: its data is now the source's, so it takes the
     * source's current generation and history (its own lineage is an ancestor of the source's, or
     * after an operator's discard it has none). It stops tracking the source; its bitmap ids for
     * other peers stay, which is correct because it kept setting their bits for every block the
     * resync wrote.
     *
     * @param sourceIds the source's ids as of the end of the resync
     */
    public GenerationIds syncFinishedAsTarget(String source, GenerationIds sourceIds) {
        if (sourceIds.isJustCreated()) {
            throw new IllegalArgumentException("a just-created replica cannot have been a resync source");
        }
        Map<String, Long> bitmaps = new TreeMap<>(bitmapByPeer);
        bitmaps.remove(source);
        return new GenerationIds(sourceIds.current, bitmaps, sourceIds.history);
    }

    /**
     * Every real generation this replica's data descends from (history and bitmap ids); excludes
     * the current generation.
     */
    Set<Long> ancestors() {
        Set<Long> ancestors = new HashSet<>(history);
        ancestors.addAll(bitmapByPeer.values());
        ancestors.remove(current);
        return ancestors;
    }

    private long freshId(RandomGenerator random) {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || id == JUST_CREATED || id == current || history.contains(id)
                || bitmapByPeer.containsValue(id));
        return id;
    }

    private static List<Long> pushed(long id, List<Long> history) {
        List<Long> result = new ArrayList<>(history.size() + 1);
        result.add(id);
        result.addAll(history);
        return result; // the constructor drops JUST_CREATED and cuts to depth
    }

    private static void requireReal(long id, String what) {
        if (id == 0 || id == JUST_CREATED) {
            throw new IllegalArgumentException(what + " must be a real generation, not " + id);
        }
    }

    private static Map<String, Long> normalizedBitmaps(Map<String, Long> bitmaps) {
        TreeMap<String, Long> result = new TreeMap<>();
        if (bitmaps != null) {
            bitmaps.forEach((peer, id) -> {
                Objects.requireNonNull(peer, "peer name in bitmapByPeer");
                if (id != null && id != 0 && id != JUST_CREATED) {
                    result.put(peer, id);
                }
            });
        }
        return Collections.unmodifiableSortedMap(result);
    }

    private static List<Long> normalizedHistory(long current, List<Long> history) {
        LinkedHashSet<Long> result = new LinkedHashSet<>();
        if (history != null) {
            for (Long id : history) {
                if (result.size() == HISTORY_DEPTH) {
                    break;
                }
                if (id != null && id != 0 && id != JUST_CREATED && id != current) {
                    result.add(id);
                }
            }
        }
        return List.copyOf(result);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(hex(current)).append(" bitmaps{");
        bitmapByPeer.forEach((peer, id) -> text.append(peer).append('=').append(hex(id)).append(' '));
        text.append("} history[");
        history.forEach(id -> text.append(hex(id)).append(' '));
        return text.append(']').toString().replace(" }", "}").replace(" ]", "]");
    }

    private static String hex(long id) {
        return String.format("%016X", id);
    }
}
