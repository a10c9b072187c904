package dev.tandem.replication.meta;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A model of one replicated volume: each replica has generation ids, a few blocks of data, a dirty
 * block set per peer and an activity log; the operations follow the call protocol of
 * {@link GenerationIds} exactly as the engine must. Resyncs copy only the blocks the two bitmaps
 * name and then check that both sides hold the same data, and every resync checks that the target
 * holds no acknowledged write the source lacks; so a wrong decision (NONE where data differ, a
 * bitmap resync where the bitmaps do not cover the difference, a resync in the wrong direction)
 * fails loudly.
 */
final class VolumeSim {
    static final int BLOCKS = 16;

    static final class Replica {
        final String name;
        GenerationIds ids = GenerationIds.justCreated();
        boolean up = true;
        boolean primary;
        /** The engine's {@code !ReplicaMetadata.cleanShutdown()} after a crash as primary. */
        boolean crashedPrimary;
        final Map<Integer, String> data = new TreeMap<>();
        final Map<String, Set<Integer>> dirty = new TreeMap<>();
        /** The acknowledged writes this replica's data contains (by write number). */
        final Set<Integer> acknowledged = new TreeSet<>();
        /** Blocks written locally but never acknowledged when the replica crashed. */
        final Set<Integer> activityLog = new TreeSet<>();

        Replica(String name) {
            this.name = name;
        }

        Set<Integer> dirtyFor(String peer) {
            return dirty.computeIfAbsent(peer, p -> new TreeSet<>());
        }

        @Override
        public String toString() {
            return name + (up ? "" : " (down)") + (primary ? " primary" : "") + (crashedPrimary ? " crashed-primary" : "")
                    + " " + ids + " dirty" + dirty + " data" + data;
        }
    }

    private final SplittableRandom random;
    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final Set<Set<String>> links = new HashSet<>();
    private final List<String> trace = new ArrayList<>();
    private int writes;

    VolumeSim(long seed, String... names) {
        random = new SplittableRandom(seed);
        for (String name : names) {
            replicas.put(name, new Replica(name));
        }
    }

    Replica replica(String name) {
        Replica replica = replicas.get(name);
        if (replica == null) {
            throw new IllegalArgumentException("no replica " + name);
        }
        return replica;
    }

    GenerationIds ids(String name) {
        return replica(name).ids;
    }

    Map<Integer, String> data(String name) {
        return replica(name).data;
    }

    Set<String> names() {
        return replicas.keySet();
    }

    boolean linked(String a, String b) {
        return !a.equals(b) && links.contains(Set.of(a, b));
    }

    List<String> trace() {
        return trace;
    }

    // --- operations ---

    void initialPrimary(String name) {
        step("initialPrimary " + name);
        Replica replica = live(name);
        replica.ids = GenerationIds.initialPrimary(random);
        replica.primary = true;
    }

    /** The primary writes one block; linked peers receive it, others are marked dirty. */
    int write(String name) {
        step("write " + name);
        Replica primary = livePrimary(name);
        announce(primary, primary.ids.beforeWrite(random));
        splitFromPrimary(primary);
        int block = random.nextInt(BLOCKS);
        int number = ++writes;
        String value = name + "#" + number;
        applyWrite(primary, block, value, null);
        primary.acknowledged.add(number);
        for (Replica peer : linkedTo(primary)) {
            applyWrite(peer, block, value, null);
            peer.acknowledged.add(number);
        }
        return block;
    }

    /** The primary writes a block locally and crashes before any peer gets it (or anything is acknowledged). */
    void crashDuringWrite(String name) {
        step("crashDuringWrite " + name);
        Replica primary = livePrimary(name);
        int block = random.nextInt(BLOCKS);
        primary.data.put(block, name + "#" + ++writes);
        primary.activityLog.add(block);
        crash(name);
    }

    void crash(String name) {
        step("crash " + name);
        Replica replica = live(name);
        replica.up = false;
        if (replica.primary) {
            replica.primary = false;
            replica.crashedPrimary = true;
        }
        for (Replica peer : linkedTo(replica)) {
            links.remove(Set.of(name, peer.name));
            peer.ids = peer.ids.startTracking(name); // the crashed side calls nothing
        }
    }

    /** Start-up: the activity log's extents become dirty for every peer. */
    void restart(String name) {
        step("restart " + name);
        Replica replica = replica(name);
        if (replica.up) {
            throw new IllegalStateException(name + " is up");
        }
        replica.up = true;
        for (String peer : others(name)) {
            replica.dirtyFor(peer).addAll(replica.activityLog);
        }
        replica.activityLog.clear();
    }

    /** Orderly shutdown. */
    void stop(String name) {
        step("stop " + name);
        Replica replica = live(name);
        replica.primary = false;
        for (Replica peer : linkedTo(replica)) {
            cut(name, peer.name);
        }
        replica.up = false;
    }

    /** The link between two running replicas breaks; each notices. */
    void cut(String a, String b) {
        step("cut " + a + " " + b);
        if (!links.remove(Set.of(a, b))) {
            throw new IllegalStateException(a + " and " + b + " are not connected");
        }
        replica(a).ids = replica(a).ids.startTracking(b);
        replica(b).ids = replica(b).ids.startTracking(a);
    }

    void promote(String name) {
        step("promote " + name);
        Replica replica = live(name);
        if (replica.primary) {
            throw new IllegalStateException(name + " is primary already");
        }
        List<String> absent = others(name).stream().filter(peer -> !linked(name, peer)).collect(Collectors.toList());
        announce(replica, replica.ids.promote(absent, random));
        replica.primary = true;
        replica.crashedPrimary = false; // a new generation (or full connectivity) supersedes the tie-break
    }

    void demote(String name) {
        step("demote " + name);
        livePrimary(name).primary = false;
    }

    /** What {@link #connect} would decide, from {@code a}'s side, without doing anything. */
    SyncDecision decision(String a, String b) {
        Replica ra = replica(a);
        Replica rb = replica(b);
        return SyncDecision.decide(a, ra.ids, ra.crashedPrimary, b, rb.ids, rb.crashedPrimary);
    }

    /**
     * The handshake, from {@code a}'s side, and the resync it calls for, run to completion. DIVERGED,
     * UNRELATED and BOTH_JUST_CREATED leave the two disconnected.
     */
    SyncDecision connect(String a, String b) {
        step("connect " + a + " " + b);
        Replica ra = live(a);
        Replica rb = live(b);
        if (linked(a, b)) {
            throw new IllegalStateException(a + " and " + b + " are connected already");
        }
        SyncDecision decision = decision(a, b);
        SyncDecision mirrored = decision(b, a);
        if (mirrored != decision.mirror()) {
            throw failure("asymmetric decision: " + decision + " vs " + mirrored);
        }
        step("  -> " + decision);
        switch (decision) {
            case NONE -> {
                if (!ra.data.equals(rb.data) || !ra.acknowledged.equals(rb.acknowledged)) {
                    throw failure("NONE but the data differ");
                }
                ra.ids = ra.ids.peerInSync(b);
                rb.ids = rb.ids.peerInSync(a);
                ra.dirtyFor(b).clear();
                rb.dirtyFor(a).clear();
                links.add(Set.of(a, b));
            }
            case BECOME_SOURCE_BITMAP, BECOME_SOURCE_FULL -> resync(ra, rb, decision.isFullSync());
            case BECOME_TARGET_BITMAP, BECOME_TARGET_FULL -> resync(rb, ra, decision.isFullSync());
            default -> {
                // no replication until someone intervenes
            }
        }
        return decision;
    }

    /**
     * An operator resolves a split brain: the victim forgets its data's lineage (its ids become
     * those of a new disk) and receives a full resync from the survivor.
     */
    void discardData(String victim, String survivor) {
        step("discardData " + victim + " from " + survivor);
        Replica replica = live(victim);
        for (Replica other : linkedTo(replica)) {
            cut(victim, other.name);
        }
        replica.ids = GenerationIds.justCreated();
        replica.acknowledged.clear(); // the operator's choice, not a loss the protocol caused
        replica.crashedPrimary = false;
        SyncDecision decision = connect(survivor, victim);
        if (decision != SyncDecision.BECOME_SOURCE_FULL) {
            throw failure("after discarding " + victim + ": " + decision);
        }
    }

    /** The replica's disk is replaced: nothing written, no metadata. */
    void wipe(String name) {
        step("wipe " + name);
        Replica replica = replica(name);
        if (replica.up) {
            throw new IllegalStateException("stop or crash " + name + " first");
        }
        replica.ids = GenerationIds.justCreated();
        replica.data.clear();
        replica.dirty.clear();
        replica.activityLog.clear();
        replica.acknowledged.clear();
        replica.crashedPrimary = false;
    }

    /** The bitmap for {@code peer} (its id and its bits) is lost; the history is not. */
    void loseBitmap(String name, String peer) {
        step("loseBitmap " + name + " " + peer);
        Replica replica = replica(name);
        Map<String, Long> bitmaps = new TreeMap<>(replica.ids.bitmapByPeer());
        bitmaps.remove(peer);
        replica.ids = new GenerationIds(replica.ids.current(), bitmaps, replica.ids.history());
        replica.dirtyFor(peer).clear();
    }

    /** Linked replicas must hold the same data and generation (a check of the model itself). */
    void checkLinkedReplicasAgree() {
        for (Set<String> link : links) {
            List<Replica> pair = link.stream().map(this::replica).collect(Collectors.toList());
            Replica a = pair.get(0);
            Replica b = pair.get(1);
            if (!a.data.equals(b.data) || a.ids.current() != b.ids.current()) {
                throw failure("connected replicas " + a.name + " and " + b.name + " disagree");
            }
        }
    }

    AssertionError failure(String message) {
        StringBuilder text = new StringBuilder(message).append("\nstate:\n");
        replicas.values().forEach(replica -> text.append("  ").append(replica).append('\n'));
        text.append("links: ").append(links).append("\ntrace:\n");
        trace.forEach(line -> text.append("  ").append(line).append('\n'));
        return new AssertionError(text.toString());
    }

    // --- internals ---

    private void resync(Replica source, Replica target, boolean full) {
        if (!source.acknowledged.containsAll(target.acknowledged)) {
            throw failure("resync " + source.name + " -> " + target.name + " would lose acknowledged writes");
        }
        List<String> notInSync = others(source.name).stream().filter(peer -> !linked(source.name, peer))
                .collect(Collectors.toList());
        GenerationIds before = source.ids;
        announce(source, source.ids.beforeResyncAsSource(source.crashedPrimary, notInSync, random));
        if (source.ids.current() != before.current()) {
            step("  " + source.name + " starts a generation for its recovery resync");
            source.crashedPrimary = false;
        }
        // the target's data is about to change, so it is no longer in sync with anyone else
        for (Replica other : linkedTo(target)) {
            cut(target.name, other.name);
        }
        Set<Integer> blocks = new TreeSet<>();
        if (full) {
            IntStream.range(0, BLOCKS).forEach(blocks::add);
        } else {
            blocks.addAll(source.dirtyFor(target.name));
            blocks.addAll(target.dirtyFor(source.name));
        }
        for (int block : blocks) {
            String value = source.data.get(block);
            if (value == null) {
                target.data.remove(block);
            } else {
                target.data.put(block, value);
            }
            markDirty(target, block, source.name);
        }
        source.ids = source.ids.syncFinishedAsSource(target.name);
        target.ids = target.ids.syncFinishedAsTarget(source.name, source.ids);
        source.dirtyFor(target.name).clear();
        target.dirtyFor(source.name).clear();
        links.add(Set.of(source.name, target.name));
        if (!source.data.equals(target.data)) {
            throw failure((full ? "full" : "bitmap") + " resync " + source.name + " -> " + target.name
                    + " left the data different");
        }
        target.acknowledged.clear();
        target.acknowledged.addAll(source.acknowledged);
        target.crashedPrimary = false; // its unacknowledged blocks were in the resync
    }

    /** Persist, then tell the connected in-sync peers about a new current generation. */
    private void announce(Replica primary, GenerationIds newIds) {
        // (named "primary": the replica starting a generation; a recovering secondary does it too)
        boolean changed = newIds.current() != primary.ids.current();
        primary.ids = newIds;
        if (changed) {
            splitFromPrimary(primary);
            for (Replica peer : linkedTo(primary)) {
                peer.ids = peer.ids.followGeneration(newIds.current());
            }
        }
    }

    /**
     * Two secondaries in sync with each other stop being so when only one of them follows the
     * primary: disconnect them (they will renegotiate through a handshake).
     */
    private void splitFromPrimary(Replica primary) {
        for (Replica follower : linkedTo(primary)) {
            for (Replica other : linkedTo(follower)) {
                if (other != primary && !linked(other.name, primary.name)) {
                    cut(follower.name, other.name);
                }
            }
        }
    }

    private void applyWrite(Replica replica, int block, String value, String except) {
        replica.data.put(block, value);
        markDirty(replica, block, except);
    }

    /** A local change the unconnected peers do not get: their bitmaps here record it. */
    private void markDirty(Replica replica, int block, String except) {
        for (String peer : others(replica.name)) {
            if (!peer.equals(except) && !linked(replica.name, peer)) {
                replica.dirtyFor(peer).add(block);
            }
        }
    }

    private List<Replica> linkedTo(Replica replica) {
        return replicas.values().stream().filter(other -> linked(replica.name, other.name)).collect(Collectors.toList());
    }

    private List<String> others(String name) {
        return replicas.keySet().stream().filter(other -> !other.equals(name)).collect(Collectors.toList());
    }

    private Replica live(String name) {
        Replica replica = replica(name);
        if (!replica.up) {
            throw new IllegalStateException(name + " is down");
        }
        return replica;
    }

    private Replica livePrimary(String name) {
        Replica replica = live(name);
        if (!replica.primary) {
            throw new IllegalStateException(name + " is not primary");
        }
        return replica;
    }

    private void step(String line) {
        trace.add(line);
    }
}
