package dev.tandem.replication.volume;

import dev.tandem.replication.meta.DirtyBitmap;
import dev.tandem.replication.meta.GenerationIds;
import dev.tandem.replication.meta.SyncDecision;
import dev.tandem.replication.wire.Frame;
import dev.tandem.replication.wire.FrameCodec;
import dev.tandem.replication.wire.Handshake;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's link to one secondary: connect, agree on the sync direction from generation ids,
 * resync what the bitmaps say differs (rate-limited, in the background), then stream writes in order.
 * A lost link puts everything it had in flight into the peer's bitmap and reconnects every second.
 */
public final class PeerLink {
    private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);
    static final int DEAD_AFTER_MS = 5000;
    private static final int PING_EVERY_MS = 1000;
    private static final int RESYNC_RUN_BLOCKS = 256;

    private enum State { CONNECTING, SYNCING, IN_SYNC, REFUSED }

    private record Pending(long offset, long length, CompletableFuture<Frame> done) {}

    private final Replica replica;
    private final String peer;
    private final PeerConnector connector;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private volatile State state = State.CONNECTING;
    private volatile String refusal;
    private volatile boolean closed;
    private volatile PeerConnector.Connection connection;
    private volatile DataOutputStream out;
    private volatile long resyncTotal;
    private volatile long resyncDone;
    private Thread worker;

    PeerLink(Replica replica, String peer, PeerConnector connector) {
        this.replica = replica;
        this.peer = peer;
        this.connector = connector;
    }

    void start() {
        worker = new Thread(this::run, "repl-" + replica.name() + "-to-" + peer);
        worker.setDaemon(true);
        worker.start();
    }

    public String peer() {
        return peer;
    }

    /** Writes go onto the stream (in sync, or resyncing: then they are not waited for). */
    boolean streaming() {
        State s = state;
        return s == State.SYNCING || s == State.IN_SYNC;
    }

    boolean inSync() {
        return state == State.IN_SYNC;
    }

    String describe() {
        return switch (state) {
            case CONNECTING -> "connecting";
            case SYNCING -> "resyncing";
            case IN_SYNC -> "in sync";
            case REFUSED -> "refused: " + refusal;
        };
    }

    /** Blocks the most recent resync to this peer moved (0 when the peer was already in sync). */
    public long lastResyncBlocks() {
        return resyncTotal;
    }

    Integer resyncPercent() {
        if (state != State.SYNCING || resyncTotal == 0) return null;
        return (int) Math.min(99, resyncDone * 100 / resyncTotal);
    }

    /** Sends a frame whose acknowledgement the caller may wait for; a failure to send shows as a failed future. */
    Future<Frame> send(Frame frame, long offset, long length) {
        Pending p = new Pending(offset, length, new CompletableFuture<>());
        pending.put(frame.seq(), p);
        try {
            DataOutputStream o = out;
            if (o == null) throw new IOException("not connected");
            synchronized (o) {
                FrameCodec.write(o, frame);
                o.flush();
            }
        } catch (IOException e) {
            lost(e);
        }
        return p.done();
    }

    private void run() {
        while (!closed) {
            try {
                PeerConnector.Connection c = connector.connect(peer);
                connection = c;
                if (closed) break;
                DataInputStream in = new DataInputStream(new BufferedInputStream(c.tls().getInputStream(), 1 << 16));
                DataOutputStream o = new DataOutputStream(new BufferedOutputStream(c.tls().getOutputStream(), 1 << 16));
                if (handshake(in, o)) {
                    Thread reader = new Thread(() -> readAcks(in), "repl-" + replica.name() + "-acks-" + peer);
                    reader.setDaemon(true);
                    reader.start();
                    resync(o);
                    keepAlive(o);
                }
            } catch (IOException e) {
                if (!closed) {
                    if (state != State.REFUSED) LOG.debug("volume {}: link to {}: {}", replica.name(), peer, e.getMessage());
                    lost(e);
                }
            }
            Replica.sleepQuietly(state == State.REFUSED ? 5000 : 1000);
        }
    }

    /** True when the link may stream; false (state REFUSED) when either side refused. */
    private boolean handshake(DataInputStream in, DataOutputStream o) throws IOException {
        var v = replica.config();
        GenerationIds mine = replica.meta().ids();
        FrameCodec.write(o, FrameCodec.json(Frame.Type.HELLO, new Handshake.Hello(v.name(), replica.self(), replica.primaryEpoch(),
                mine, v.sizeBytes(), v.blockSize())));
        o.flush();
        Handshake.Reply reply = FrameCodec.json(expect(in, Frame.Type.HELLO_REPLY), Handshake.Reply.class);
        if (reply.refused() != null) {
            refuse(reply.refused());
            if (reply.newestEpoch() > replica.primaryEpoch()) replica.newerEpochSeen(reply.newestEpoch());
            return false;
        }
        Frame theirBits = expect(in, Frame.Type.PEER_BITMAP);
        replica.streamLock().lock();
        try {
            DirtyBitmap bitmap = replica.bitmap(peer);
            if (theirBits.body() != null) {
                // blocks the peer wrote (as an earlier primary) that we may lack: they come back from us
                bitmap.or(DirtyBitmap.fromBytes(bytes(theirBits.body()), bitmap.blocks()));
            }
            GenerationIds theirs = reply.ids();
            SyncDecision decision = theirs.isJustCreated() && reply.freshFile() && replica.initialFresh()
                    // a zeroed file meets the primary whose bitmaps hold every write since it was zeros too
                    ? SyncDecision.BECOME_SOURCE_BITMAP
                    : SyncDecision.decide(replica.self(), replica.meta().ids(), false, peer, theirs, reply.crashedPrimary());
            switch (decision) {
                case NONE, BECOME_SOURCE_BITMAP -> { }
                case BECOME_SOURCE_FULL, BOTH_JUST_CREATED -> bitmap.setAll();
                default -> {
                    String why = describe(decision);
                    FrameCodec.write(o, FrameCodec.json(Frame.Type.REFUSE, new Handshake.Refusal(why)));
                    o.flush();
                    refuse(why);
                    replica.markDiverged(why);
                    return false;
                }
            }
            replica.bitmapsChanged();
            out = o;
            state = State.SYNCING;
            refusal = null;
        } finally {
            replica.streamLock().unlock();
        }
        return true;
    }

    private String describe(SyncDecision decision) {
        return switch (decision) {
            case BECOME_TARGET_BITMAP, BECOME_TARGET_FULL -> peer + " has newer data than this primary: "
                    + "refusing to overwrite it (split brain after a forced promotion?); resolve by hand";
            case DIVERGED -> "split brain: " + peer + " and " + replica.self() + " both wrote since they last agreed; "
                    + "nothing is overwritten until an operator decides";
            default -> peer + " holds unrelated data: nothing is overwritten until an operator decides";
        };
    }

    private void resync(DataOutputStream o) throws IOException {
        DirtyBitmap bitmap = replica.bitmap(peer);
        int blockSize = replica.config().blockSize();
        resyncTotal = bitmap.cardinality();
        resyncDone = 0;
        long started = System.nanoTime();
        FrameCodec.write(o, FrameCodec.json(Frame.Type.SYNC_START, new Handshake.SyncStart(resyncTotal)));
        o.flush();
        if (resyncTotal > 0) LOG.info("volume {}: resync to {}: {} blocks", replica.name(), peer, resyncTotal);
        long bytesPerSecond = (long) replica.config().resyncMibPerSecond() << 20;
        long sent = 0;
        long from = 0;
        while (!closed && streaming()) {
            long first;
            int run;
            ByteBuffer data;
            long seq;
            replica.streamLock().lock();
            try {
                first = bitmap.nextSetBit(from);
                if (first < 0) {
                    first = bitmap.nextSetBit(0);
                    if (first < 0) break;
                }
                run = 1;
                while (run < RESYNC_RUN_BLOCKS && first + run < bitmap.blocks() && bitmap.get(first + run)) run++;
                data = ByteBuffer.allocate(run * blockSize);
                replica.store().read(first * blockSize, data);
                data.flip();
                for (int i = 0; i < run; i++) bitmap.clear(first + i);
                seq = replica.nextSeq();
                send(new Frame(Frame.Type.RESYNC, seq, replica.primaryEpoch(), first * blockSize, run * (long) blockSize, data),
                        first * blockSize, run * (long) blockSize);
            } finally {
                replica.streamLock().unlock();
            }
            from = first + run;
            resyncDone += run;
            sent += (long) run * blockSize;
            long due = sent * 1_000_000_000L / bytesPerSecond - (System.nanoTime() - started);
            if (due > 0) Replica.sleepQuietly(due / 1_000_000);
        }
        if (!streaming()) throw new IOException("lost during resync");
        replica.bitmapsChanged();
        Future<Frame> done;
        replica.streamLock().lock();
        try {
            done = send(FrameCodec.json(Frame.Type.SYNC_DONE, new Handshake.SyncDone(replica.meta().ids()))
                    .withSeq(replica.nextSeq()), 0, 0);
        } finally {
            replica.streamLock().unlock();
        }
        try {
            done.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("no acknowledgement of the resync's end: " + e.getMessage());
        }
        replica.streamLock().lock();
        try {
            if (!streaming()) throw new IOException("lost at the end of the resync");
            state = State.IN_SYNC;
        } finally {
            replica.streamLock().unlock();
        }
        replica.peerInSync(peer);
        long ms = (System.nanoTime() - started) / 1_000_000;
        if (resyncTotal > 0) {
            LOG.info("volume {}: {} is in sync: resynced {} blocks ({} KiB) in {} ms", replica.name(), peer, resyncTotal,
                    resyncTotal * blockSize / 1024, ms);
        } else {
            LOG.info("volume {}: {} is in sync", replica.name(), peer);
        }
    }

    private void keepAlive(DataOutputStream o) throws IOException {
        while (!closed && streaming()) {
            synchronized (o) {
                FrameCodec.write(o, Frame.of(Frame.Type.PING));
                o.flush();
            }
            Replica.sleepQuietly(PING_EVERY_MS);
        }
    }

    private void readAcks(DataInputStream in) {
        try {
            while (!closed) {
                Frame f = FrameCodec.read(in);
                switch (f.type()) {
                    case ACK, VERIFY_REPLY -> {
                        Pending p = pending.remove(f.seq());
                        if (p != null) p.done().complete(f);
                    }
                    case PONG -> { }
                    case REFUSE -> {
                        Handshake.Refusal r = FrameCodec.json(f, Handshake.Refusal.class);
                        refuse(r.reason());
                        if (f.epoch() > replica.primaryEpoch()) replica.newerEpochSeen(f.epoch());
                        throw new IOException("refused: " + r.reason());
                    }
                    default -> throw new IOException("unexpected " + f.type() + " from the secondary");
                }
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.info("volume {}: link to {} lost: {}", replica.name(), peer, e.getMessage());
                lost(e);
            }
        }
    }

    boolean idle() {
        return pending.isEmpty();
    }

    /** Waits until every frame sent so far is acknowledged, the link is lost, or the deadline passes. */
    void awaitAcknowledged(long deadlineMillis) {
        while (!pending.isEmpty() && streaming() && System.currentTimeMillis() < deadlineMillis) Replica.sleepQuietly(10);
    }

    /** Asks the peer for the digests of a range; the reply comes after every write sent before it. */
    Future<Frame> requestDigests(long firstBlock, int count) {
        long seq = replica.nextSeq();
        return send(new Frame(Frame.Type.VERIFY, seq, replica.primaryEpoch(), firstBlock, count, null), 0, 0);
    }

    private void refuse(String why) {
        if (!why.equals(refusal)) LOG.warn("volume {}: link to {} refused: {}", replica.name(), peer, why);
        refusal = why;
        state = State.REFUSED;
    }

    /** Everything in flight goes into the peer's bitmap; waiting writers learn the link is gone. */
    private void lost(Exception cause) {
        PeerConnector.Connection c = connection;
        connection = null;
        out = null;
        if (c != null) {
            try {
                c.raw().close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        }
        boolean wasStreaming;
        replica.streamLock().lock();
        try {
            wasStreaming = streaming();
            if (state != State.REFUSED) state = State.CONNECTING;
            DirtyBitmap bitmap = replica.bitmap(peer);
            int blockSize = replica.config().blockSize();
            for (Long seq : pending.keySet()) {
                Pending p = pending.remove(seq);
                if (p == null) continue;
                if (p.length() > 0) bitmap.setRange(p.offset(), p.length(), blockSize);
                p.done().completeExceptionally(cause);
            }
        } finally {
            replica.streamLock().unlock();
        }
        if (wasStreaming) replica.peerLost(peer);
    }

    void close() {
        closed = true;
        lost(new IOException("link closed"));
        if (worker != null) worker.interrupt();
    }

    private static Frame expect(DataInputStream in, Frame.Type type) throws IOException {
        Frame f = FrameCodec.read(in);
        if (f.type() == Frame.Type.REFUSE) throw new IOException("refused: " + FrameCodec.json(f, Handshake.Refusal.class).reason());
        if (f.type() != type) throw new IOException("expected " + type + ", got " + f.type());
        return f;
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
