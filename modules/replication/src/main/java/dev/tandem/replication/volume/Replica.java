package dev.tandem.replication.volume;

import dev.tandem.config.Volume;
import dev.tandem.replication.meta.ActivityLog;
import dev.tandem.replication.meta.DirtyBitmap;
import dev.tandem.replication.meta.DiskState;
import dev.tandem.replication.meta.GenerationIds;
import dev.tandem.replication.meta.MetadataFile;
import dev.tandem.replication.meta.ReplicaMetadata;
import dev.tandem.replication.nbd.NbdExport;
import dev.tandem.replication.store.BlockStore;
import dev.tandem.replication.wire.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy of one volume: its data, its metadata (generation ids, newest epoch seen, disk
 * state), a dirty bitmap per peer and the activity log. As primary it is the NBD export: a write goes
 * to the local disk and, in the same order, to every connected peer; it is acknowledged only when
 * every other replica either has it (protocol C; sent, for A) or is committed as outdated. As
 * secondary it applies what its primary sends, refusing any primary from an older epoch.
 *
 * <p>One lock orders the stream: a write or a resync read and its send to the peers happen under it,
 * so every peer sees the same order the local disk saw.
 */
public final class Replica implements NbdExport, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Replica.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long a write waits for a fencing commit before it is failed (the client may retry). */
    private static final long FENCE_WAIT_MS = 10_000;
    /** How long a demoting primary waits for its peers to acknowledge what it already sent. */
    private static final long DRAIN_MS = 5_000;

    public enum Role { SECONDARY, PRIMARY, FENCED }

    private final String self;
    private final String name;
    private final Path dir;
    private final BlockStore store;
    private final boolean isFile;
    private final ActivityLog activity;
    private final Map<String, DirtyBitmap> bitmaps = new ConcurrentHashMap<>();
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();
    private final Decisions decisions;
    private final ReentrantLock streamLock = new ReentrantLock();
    private final Object fenceLock = new Object();
    private final AtomicLong seq = new AtomicLong();
    private final AtomicBoolean bitmapsChanged = new AtomicBoolean();
    private final PeerConnector connector;

    private volatile Volume config;
    private volatile ReplicaMetadata meta;
    private volatile Role role = Role.SECONDARY;
    private volatile long primaryEpoch;
    private volatile String fencedReason;
    /** peers committed as outdated but perhaps not yet in the config this replica was given */
    private final Set<String> fencedLocally = ConcurrentHashMap.newKeySet();
    private volatile long fencedAtVersion;
    private volatile SecondarySession session;
    private volatile boolean handingOver;

    /** Opens a replica in {@code dir}, creating its files for a new volume. */
    public static Replica open(String self, Volume volume, Path dir, Decisions decisions, PeerConnector connector) throws IOException {
        Files.createDirectories(dir);
        Volume.Replica mine = volume.replica(self).orElseThrow();
        Path dataFile = dir.resolve("data.img");
        BlockStore store = mine.device() == null ? BlockStore.file(dataFile, volume.sizeBytes())
                : BlockStore.device(Path.of(mine.device()), volume.sizeBytes());
        try {
            return new Replica(self, volume, dir, store, mine.device() == null, decisions, connector);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private Replica(String self, Volume volume, Path dir, BlockStore store, boolean isFile, Decisions decisions,
            PeerConnector connector) throws IOException {
        this.self = self;
        this.name = volume.name();
        this.dir = dir;
        this.store = store;
        this.isFile = isFile;
        this.decisions = decisions;
        this.connector = connector;
        this.config = volume;
        long blocks = volume.sizeBytes() / volume.blockSize();
        ReplicaMetadata loaded = MetadataFile.load(metaFile()).orElse(null);
        if (loaded != null && loaded.sizeBytes() != volume.sizeBytes()) {
            throw new IOException(metaFile() + " describes " + loaded.sizeBytes() + " bytes, but volume " + name
                    + " is " + volume.sizeBytes() + " bytes");
        }
        this.meta = loaded != null ? loaded
                : new ReplicaMetadata(GenerationIds.justCreated(), 0, DiskState.UP_TO_DATE, volume.sizeBytes(), volume.blockSize(), true);
        for (String peer : volume.replicaNodes()) {
            if (!peer.equals(self)) bitmaps.put(peer, DirtyBitmap.load(bitmapFile(peer), blocks));
        }
        this.activity = ActivityLog.open(dir.resolve("activity.log"), volume.sizeBytes(), 4L << 20, 64);
        if (activity.openedAfterUncleanStop()) {
            // writes that reached our disk but perhaps no peer: every peer must get those extents back
            long extents = activity.recoveredExtents().peek(e -> bitmaps.values().forEach(b -> b.setRange(e * (4L << 20),
                    Math.min(4L << 20, volume.sizeBytes() - e * (4L << 20)), volume.blockSize()))).count();
            LOG.warn("volume {}: unclean stop; {} active extents are marked for resync to every peer", name, extents);
            saveBitmaps();
        }
    }

    // ---- reconciling --------------------------------------------------------------------------------

    /** Moves toward the given entry: primary under its epoch, or secondary. Idempotent. */
    public void apply(Volume volume, long configVersion) {
        this.config = volume;
        if (configVersion >= fencedAtVersion) fencedLocally.clear();
        long epoch = volume.epoch();
        if (epoch > meta.newestEpoch()) updateMeta(m -> m.withEpochSeen(epoch));
        boolean primaryHere = self.equals(volume.effectivePrimary());
        if (primaryHere && epoch >= meta.newestEpoch()) {
            if (role == Role.SECONDARY || (role == Role.PRIMARY && primaryEpoch != epoch)) promote(epoch);
            if (volume.handoverTo() != null) {
                handOver(volume.handoverTo());
            } else if (handingOver && role == Role.FENCED) {
                handingOver = false;
                role = Role.PRIMARY;
                fencedReason = null;
                LOG.info("volume {}: the handover was called off; primary again under epoch {}", name, primaryEpoch);
            }
        } else if (role != Role.SECONDARY) {
            demote("the primary is now " + volume.effectivePrimary() + " under epoch " + epoch);
        }
        if (role == Role.PRIMARY) reconcileLinks(volume);
    }

    private void promote(long epoch) {
        streamLock.lock();
        try {
            if (meta.disk() == DiskState.INCONSISTENT) {
                fence("this replica was in the middle of a resync: its data is inconsistent and cannot be served");
                return;
            }
            closeSession();
            GenerationIds ids = meta.ids();
            if (ids.isJustCreated()) {
                // the volume's very first primary: its data (zeros, for a file we just created) is the first generation
                ids = GenerationIds.initialPrimary(RANDOM);
                if (freshFile()) markInitialFresh(true);
            } else {
                // no peer is connected yet: every one is tracked, and a new generation starts
                ids = ids.promote(bitmaps.keySet(), RANDOM);
            }
            GenerationIds promoted = ids;
            // not clean from now until an orderly demotion or stop: after a crash, "a crashed primary"
            updateMeta(m -> m.withIds(promoted).withEpochSeen(epoch).withCleanShutdown(false));
            try {
                activity.markInUse();
            } catch (IOException e) {
                fence("cannot write the activity log: " + e.getMessage());
                return;
            }
            primaryEpoch = epoch;
            role = Role.PRIMARY;
            fencedReason = null;
            LOG.info("volume {}: primary under epoch {}", name, epoch);
        } finally {
            streamLock.unlock();
        }
    }

    /**
     * The first half of a planned switchover: no new writes, and wait until every peer has acknowledged
     * everything already sent (protocol A has not waited for it). The new primary is committed after
     * this node reports "drained"; writes arriving meanwhile fail and are not acknowledged.
     */
    private void handOver(String to) {
        if (role != Role.PRIMARY) return;
        streamLock.lock();
        try {
            role = Role.FENCED;
            handingOver = true;
            fencedReason = "handing over to " + to + ": no new writes";
        } finally {
            streamLock.unlock();
        }
        long deadline = System.currentTimeMillis() + DRAIN_MS;
        for (PeerLink link : links.values()) link.awaitAcknowledged(deadline);
        PeerLink target = links.get(to);
        boolean drained = target != null && target.inSync() && target.idle();
        fencedReason = "handing over to " + to + (drained ? ": drained" : ": not drained (" + (target == null ? "not connected" : target.describe()) + ")");
        LOG.info("volume {}: {}", name, fencedReason);
    }

    /** Stops serving: the caller saw a newer epoch or another primary. Links close; pending writes fail. */
    public void demote(String why) {
        streamLock.lock();
        try {
            if (role == Role.SECONDARY) return;
            role = Role.SECONDARY;
            handingOver = false;
            fencedReason = "demoted: " + why;
            // our bitmaps no longer cover everything a fresh peer lacks: the next primary's do
            markInitialFresh(false);
            LOG.info("volume {}: secondary now: {}", name, why);
        } finally {
            streamLock.unlock();
        }
        // what was already sent reaches the peers before the links close (protocol A has not waited for it)
        long deadline = System.currentTimeMillis() + DRAIN_MS;
        for (PeerLink link : links.values()) link.awaitAcknowledged(deadline);
        closeLinks();
        markCleanIfIdle();
    }

    /** An orderly end of serving: the activity log holds nothing, and a later start is not a crashed primary's. */
    private void markCleanIfIdle() {
        try {
            store.sync();
            activity.markClean();
            updateMeta(m -> m.withCleanShutdown(true));
        } catch (IOException | IllegalStateException e) {
            // writes still in flight: leave the log as it is, a restart then treats those extents as dirty
            LOG.info("volume {}: activity log left in use: {}", name, e.getMessage());
        }
    }

    /** Stops acknowledging writes but keeps the primary's claim: quorum lost for longer than the lease, or data unusable. */
    public void fence(String why) {
        if (role == Role.FENCED) return;
        boolean wasPrimary = role == Role.PRIMARY;
        role = Role.FENCED;
        fencedReason = why;
        LOG.warn("volume {}: fenced: {}", name, why);
        if (wasPrimary) closeLinks();
    }

    /** Called when quorum is back and the newest config still names this node under the same epoch. */
    public void unfence(long epoch) {
        if (role == Role.FENCED && epoch == primaryEpoch && meta.disk() != DiskState.INCONSISTENT) {
            role = Role.SECONDARY;
            promote(epoch);
            reconcileLinks(config);
        }
    }

    private void reconcileLinks(Volume volume) {
        for (String peer : volume.replicaNodes()) {
            if (peer.equals(self) || links.containsKey(peer)) continue;
            PeerLink link = new PeerLink(this, peer, connector);
            links.put(peer, link);
            link.start();
        }
        for (String peer : List.copyOf(links.keySet())) {
            if (!volume.replicaNodes().contains(peer)) links.remove(peer).close();
        }
    }

    private void closeLinks() {
        for (String peer : List.copyOf(links.keySet())) {
            PeerLink link = links.remove(peer);
            if (link != null) link.close();
        }
    }

    // ---- NBD export (primary) --------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return store.size();
    }

    @Override
    public boolean readOnly() {
        return role != Role.PRIMARY;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        requirePrimary();
        store.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int length = src.remaining();
        replicated(offset, length, s -> {
            store.write(offset, src.duplicate());
            return new Frame(Frame.Type.WRITE, s, primaryEpoch, offset, length, src);
        });
        if (fua) flush();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        replicated(offset, length, s -> {
            store.zero(offset, length);
            return new Frame(Frame.Type.TRIM, s, primaryEpoch, offset, length, null);
        });
    }

    @Override
    public void flush() throws IOException {
        requirePrimary();
        store.sync();
        List<Future<?>> waits = new ArrayList<>();
        for (PeerLink link : links.values()) {
            if (link.inSync()) waits.add(link.send(Frame.of(Frame.Type.FLUSH, seq.incrementAndGet()), 0, 0));
        }
        awaitPeers(waits);
    }

    private interface LocalWrite {
        Frame apply(long seq) throws IOException;
    }

    private void replicated(long offset, long length, LocalWrite local) throws IOException {
        requirePrimary();
        activity.begin(offset, length);
        try {
            List<Future<?>> waits = new ArrayList<>();
            streamLock.lock();
            try {
                requirePrimary();
                GenerationIds ids = meta.ids();
                GenerationIds next = ids.beforeWrite(RANDOM);
                if (next != ids) startGeneration(next);
                Frame frame = local.apply(seq.incrementAndGet());
                for (Map.Entry<String, DirtyBitmap> e : bitmaps.entrySet()) {
                    PeerLink link = links.get(e.getKey());
                    if (link != null && link.streaming()) {
                        Future<?> ack = link.send(frame, offset, length);
                        if (config.protocol() == Volume.Protocol.C && link.inSync()) waits.add(ack);
                    } else {
                        e.getValue().setRange(offset, length, config.blockSize());
                        bitmapsChanged.set(true);
                    }
                }
            } finally {
                streamLock.unlock();
            }
            awaitPeers(waits);
        } finally {
            activity.end(offset, length);
        }
    }

    /**
     * A write is about to change data a tracked peer still holds as the current generation: persist a new
     * generation first, and tell the in-sync peers, in the stream, so they stay on the same one.
     */
    private void startGeneration(GenerationIds next) throws IOException {
        updateMeta(m -> m.withIds(next));
        if (role != Role.PRIMARY) throw new IOException("volume " + name + ": " + fencedReason);
        for (PeerLink link : links.values()) {
            if (link.inSync()) link.send(new Frame(Frame.Type.GENERATION, seq.incrementAndGet(), primaryEpoch, next.current(), 0, null), 0, 0);
        }
    }

    /** Waits for the peers' acknowledgements, then makes sure every replica is either in sync or committed outdated. */
    private void awaitPeers(List<Future<?>> waits) throws IOException {
        for (Future<?> wait : waits) {
            try {
                wait.get(FENCE_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // the link was lost; its pending writes are in the peer's bitmap; the fence below decides
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        if (!mayAcknowledge()) fenceAbsentPeers();
        requirePrimary();
    }

    private boolean mayAcknowledge() {
        Volume v = config;
        for (String peer : bitmaps.keySet()) {
            PeerLink link = links.get(peer);
            if (link != null && link.inSync()) continue;
            if (v.outdated().contains(peer) || fencedLocally.contains(peer)) continue;
            return false;
        }
        return true;
    }

    private void fenceAbsentPeers() throws IOException {
        synchronized (fenceLock) {
            long deadline = System.currentTimeMillis() + FENCE_WAIT_MS;
            while (!mayAcknowledge()) {
                requirePrimary();
                Set<String> absent = new HashSet<>();
                for (String peer : bitmaps.keySet()) {
                    PeerLink link = links.get(peer);
                    if ((link == null || !link.inSync()) && !config.outdated().contains(peer)) absent.add(peer);
                }
                try {
                    long version = decisions.markOutdated(name, primaryEpoch, absent);
                    if (version < 0) {
                        demote("a newer epoch exists: this node is no longer the primary");
                        throw new IOException("volume " + name + " is no longer primary here");
                    }
                    fencedLocally.addAll(absent);
                    fencedAtVersion = version;
                    LOG.info("volume {}: {} marked outdated (config version {}); writes go on without them", name, absent, version);
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw new IOException("volume " + name + ": cannot mark " + absent + " outdated: " + e.getMessage());
                    }
                    LOG.warn("volume {}: marking {} outdated failed ({}); retrying", name, absent, e.getMessage());
                    sleepQuietly(200);
                }
            }
        }
    }

    private void requirePrimary() throws IOException {
        Role r = role;
        if (r == Role.PRIMARY) return;
        throw new IOException(r == Role.FENCED ? "volume " + name + " is fenced: " + fencedReason
                : "volume " + name + " is not primary on " + self);
    }

    // ---- what peer links need ------------------------------------------------------------------------

    String self() {
        return self;
    }

    public Volume config() {
        return config;
    }

    long primaryEpoch() {
        return primaryEpoch;
    }

    /** A file we created whose data nobody has written yet: all zeros. */
    boolean freshFile() {
        ReplicaMetadata m = meta;
        return isFile && m.ids().isJustCreated() && m.disk() != DiskState.INCONSISTENT;
    }

    ReplicaMetadata meta() {
        return meta;
    }

    DirtyBitmap bitmap(String peer) {
        return bitmaps.get(peer);
    }

    ReentrantLock streamLock() {
        return streamLock;
    }

    BlockStore store() {
        return store;
    }

    long nextSeq() {
        return seq.incrementAndGet();
    }

    /** The primary's in-sync peers follow each new generation it starts. */
    void followGeneration(long current) {
        GenerationIds next = meta.ids().followGeneration(current);
        if (!next.equals(meta.ids())) updateMeta(m -> m.withIds(next));
    }

    /** A link went down: what it had in flight is now in the peer's bitmap, and the generation turns on the next write. */
    void peerLost(String peer) {
        streamLock.lock();
        try {
            if (role != Role.PRIMARY) return;
            GenerationIds tracked = meta.ids().startTracking(peer);
            if (!tracked.equals(meta.ids())) updateMeta(m -> m.withIds(tracked));
            bitmapsChanged.set(true);
        } finally {
            streamLock.unlock();
        }
        saveBitmaps();
    }

    /** A resync finished and the peer acknowledged it: its bitmap id is retired here. */
    void peerInSync(String peer) {
        GenerationIds finished = meta.ids().syncFinishedAsSource(peer);
        updateMeta(m -> m.withIds(finished));
        saveBitmaps();
        if (config.outdated().contains(peer) || fencedLocally.contains(peer)) {
            long epoch = primaryEpoch;
            Thread t = new Thread(() -> {
                try {
                    decisions.markUpToDate(name, epoch, peer);
                    fencedLocally.remove(peer);
                    LOG.info("volume {}: {} is up to date again", name, peer);
                } catch (Exception e) {
                    LOG.warn("volume {}: could not mark {} up to date ({}); it stays outdated until the next resync", name, peer, e.getMessage());
                }
            }, "repl-" + name + "-uptodate-" + peer);
            t.setDaemon(true);
            t.start();
        }
    }

    /** A peer says it has seen a newer epoch: someone else is primary now. */
    void newerEpochSeen(long epoch) {
        if (epoch > meta.newestEpoch()) updateMeta(m -> m.withEpochSeen(epoch));
        if (role != Role.SECONDARY && epoch > primaryEpoch) demote("a peer has seen epoch " + epoch);
    }

    /**
     * Whether this primary's bitmaps hold every block written since the volume was created from zeros:
     * then a peer that is still a fresh, never-written file needs only those blocks, not a full copy.
     */
    boolean initialFresh() {
        return Files.exists(dir.resolve("initial-fresh"));
    }

    private void markInitialFresh(boolean value) {
        try {
            if (value) Files.writeString(dir.resolve("initial-fresh"), "this replica was the first primary, created as a zeroed file\n");
            else Files.deleteIfExists(dir.resolve("initial-fresh"));
        } catch (IOException e) {
            LOG.warn("volume {}: {}", name, e.getMessage());
        }
    }

    // ---- secondary side -------------------------------------------------------------------------------

    /**
     * A primary wants to stream to us. Returns why not, or null and adopts the session (an older one
     * from the same or an older epoch is closed).
     */
    synchronized String attach(SecondarySession incoming, String from, long epoch) {
        if (epoch < meta.newestEpoch()) {
            return "stale epoch " + epoch + ": " + self + " has seen epoch " + meta.newestEpoch();
        }
        if (role != Role.SECONDARY) {
            if (epoch <= primaryEpoch) return self + " is itself primary under epoch " + primaryEpoch;
            demote(from + " is primary under the newer epoch " + epoch);
        }
        if (!config.replicaNodes().contains(from)) return from + " holds no replica of " + name;
        if (epoch > meta.newestEpoch()) updateMeta(m -> m.withEpochSeen(epoch));
        SecondarySession old = session;
        session = incoming;
        if (old != null) old.close();
        return null;
    }

    synchronized void detach(SecondarySession s) {
        if (session == s) session = null;
    }

    private synchronized void closeSession() {
        SecondarySession s = session;
        session = null;
        if (s != null) s.close();
    }

    /** The primary started a resync: until it is done our data is a mix of old and new. */
    void syncStarting(long blocks) {
        if (blocks > 0 || meta.ids().isJustCreated()) updateMeta(m -> m.withDisk(DiskState.INCONSISTENT));
    }

    /** The primary finished the resync: adopt its generation, forget our own bits for it. */
    void syncDone(String primary, GenerationIds primaryIds) throws IOException {
        store.sync();
        DirtyBitmap mineForPrimary = bitmaps.get(primary);
        if (mineForPrimary != null) mineForPrimary.clearAll();
        saveBitmaps();
        GenerationIds adopted = meta.ids().syncFinishedAsTarget(primary, primaryIds);
        updateMeta(m -> m.withIds(adopted).withDisk(DiskState.UP_TO_DATE).withCleanShutdown(true));
        fencedReason = null;
    }

    /** The primary refused to resync with us (split brain, unrelated data): shown until resolved. */
    void markDiverged(String why) {
        LOG.error("volume {}: {}", name, why);
        if (role == Role.SECONDARY) fencedReason = why;
    }

    /**
     * The operator's resolution of a split brain, run on the replica whose data loses: forget this
     * replica's lineage so the primary's next handshake makes it a full resync target. Nothing is
     * overwritten here; the primary's resync does that.
     */
    public void discardLocalData() throws IOException {
        streamLock.lock();
        try {
            if (role != Role.SECONDARY) {
                throw new IllegalStateException("this node is the " + role.name().toLowerCase() + " of volume " + name
                        + ": discard the data of a secondary, on that secondary");
            }
            closeSession();
            bitmaps.values().forEach(DirtyBitmap::clearAll);
            bitmapsChanged.set(true);
            saveBitmaps();
            updateMeta(m -> m.withIds(GenerationIds.justCreated()).withDisk(DiskState.INCONSISTENT));
            fencedReason = "local data discarded by an operator: waiting for a full resync from the primary";
            LOG.warn("volume {}: {}", name, fencedReason);
        } finally {
            streamLock.unlock();
        }
    }

    // ---- persistence and status -------------------------------------------------------------------

    private interface MetaChange {
        ReplicaMetadata apply(ReplicaMetadata m);
    }

    private synchronized void updateMeta(MetaChange change) {
        saveMeta(change.apply(meta));
    }

    private synchronized void saveMeta(ReplicaMetadata next) {
        try {
            MetadataFile.save(metaFile(), next);
            meta = next;
        } catch (IOException e) {
            // without durable metadata a restart could misjudge the sync direction: stop serving
            LOG.error("volume {}: cannot save {}", name, metaFile(), e);
            meta = next;
            fence("cannot save replica metadata: " + e.getMessage());
        }
    }

    /** Persists the bitmaps if anything changed since the last time (called once a second, and on events). */
    public void saveBitmaps() {
        if (!bitmapsChanged.getAndSet(false)) return;
        for (Map.Entry<String, DirtyBitmap> e : bitmaps.entrySet()) {
            try {
                e.getValue().save(bitmapFile(e.getKey()));
            } catch (IOException ex) {
                bitmapsChanged.set(true);
                LOG.error("volume {}: cannot save the bitmap for {}", name, e.getKey(), ex);
            }
        }
    }

    void bitmapsChanged() {
        bitmapsChanged.set(true);
    }

    private Path metaFile() {
        return dir.resolve("meta.json");
    }

    private Path bitmapFile(String peer) {
        return dir.resolve("bitmap-" + peer);
    }

    public Role role() {
        return role;
    }

    public ReplicaStatus status() {
        Map<String, ReplicaStatus.Peer> peers = new LinkedHashMap<>();
        long blockSize = config.blockSize();
        for (Map.Entry<String, DirtyBitmap> e : bitmaps.entrySet()) {
            PeerLink link = links.get(e.getKey());
            long outOfSync = e.getValue().cardinality();
            String state = role != Role.PRIMARY ? "-" : link == null ? "not connected" : link.describe();
            Integer percent = link == null ? null : link.resyncPercent();
            peers.put(e.getKey(), new ReplicaStatus.Peer(state, outOfSync * blockSize, percent));
        }
        ReplicaMetadata m = meta;
        return new ReplicaStatus(role.name().toLowerCase(), role == Role.SECONDARY ? m.newestEpoch() : primaryEpoch,
                m.disk().name().toLowerCase().replace('_', '-'), Long.toHexString(m.ids().current()), fencedReason,
                session != null ? session.primary() : null, peers);
    }

    /** The digests of {@code count} blocks from {@code firstBlock}: 8 bytes of SHA-256 each. */
    byte[] digests(long firstBlock, int count) throws IOException {
        return BlockDigests.of(store, config.blockSize(), firstBlock, count);
    }

    /** A peer's comparison: how many blocks were compared and which differ (the first thousand). */
    public record VerifyResult(String peer, long compared, List<Long> differing, String problem) {}

    /**
     * Compares every block with each in-sync peer, online: each range's local digests are taken under the
     * stream lock with the request sent in the same breath, so both sides digest the same point of the stream.
     */
    public List<VerifyResult> verify() throws IOException {
        requirePrimary();
        List<VerifyResult> results = new ArrayList<>();
        long blocks = store.size() / config.blockSize();
        for (String peer : bitmaps.keySet()) {
            PeerLink link = links.get(peer);
            if (link == null || !link.inSync()) {
                results.add(new VerifyResult(peer, 0, List.of(), "not compared: " + (link == null ? "not connected" : link.describe())));
                continue;
            }
            List<Long> differing = new ArrayList<>();
            long compared = 0;
            String problem = null;
            for (long first = 0; first < blocks && problem == null; first += 1024) {
                int count = (int) Math.min(1024, blocks - first);
                byte[] local;
                Future<Frame> reply;
                streamLock.lock();
                try {
                    local = digests(first, count);
                    reply = link.requestDigests(first, count);
                } finally {
                    streamLock.unlock();
                }
                try {
                    byte[] remote = PeerLink.bytes(reply.get(60, TimeUnit.SECONDS).body());
                    for (int i = 0; i < count; i++) {
                        if (!java.util.Arrays.equals(local, i * BlockDigests.BYTES, (i + 1) * BlockDigests.BYTES,
                                remote, i * BlockDigests.BYTES, (i + 1) * BlockDigests.BYTES) && differing.size() < 1000) {
                            differing.add(first + i);
                        }
                    }
                    compared += count;
                } catch (Exception e) {
                    problem = "stopped after " + compared + " blocks: " + e.getMessage();
                }
            }
            results.add(new VerifyResult(peer, compared, differing, problem));
        }
        return results;
    }

    public List<PeerLink> links() {
        return List.copyOf(links.values());
    }

    static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        boolean served = role != Role.SECONDARY;
        closeLinks();
        closeSession();
        saveBitmaps();
        if (served) markCleanIfIdle();
        try {
            store.close();
        } catch (IOException e) {
            LOG.warn("volume {}: {}", name, e.getMessage());
        }
    }
}
