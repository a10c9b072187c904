package dev.tandem.replication.volume;

import dev.tandem.replication.meta.ReplicaMetadata;
import dev.tandem.replication.wire.Frame;
import dev.tandem.replication.wire.FrameCodec;
import dev.tandem.replication.wire.Handshake;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.function.Function;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A secondary's end of one primary's stream: applies writes, resync ranges and trims in the order
 * they came, acknowledges each, and refuses anything from an epoch older than the newest it has seen.
 */
public final class SecondarySession {
    private static final Logger LOG = LoggerFactory.getLogger(SecondarySession.class);

    private final Socket raw;
    private final SSLSocket socket;
    private volatile boolean closed;
    private String primary;

    public SecondarySession(Socket raw, SSLSocket socket) {
        this.raw = raw;
        this.socket = socket;
    }

    String primary() {
        return primary;
    }

    /** Runs on the accepting thread until the stream ends. */
    public void serve(Function<String, Replica> replicas) {
        Replica replica = null;
        try {
            String peerNode = PeerConnector.nodeOf(socket);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            Frame first = FrameCodec.read(in);
            if (first.type() != Frame.Type.HELLO) throw new IOException("expected HELLO, got " + first.type());
            Handshake.Hello hello = FrameCodec.json(first, Handshake.Hello.class);
            if (!peerNode.equals(hello.from())) {
                throw new IOException("node " + peerNode + " introduced itself as " + hello.from());
            }
            replica = replicas.apply(hello.volume());
            String refusal = replica == null ? "no replica of volume " + hello.volume() + " here"
                    : hello.sizeBytes() != replica.size() ? "size mismatch: " + hello.sizeBytes() + " bytes there, " + replica.size() + " here"
                    : replica.attach(this, hello.from(), hello.epoch());
            if (refusal != null) {
                long newest = replica == null ? 0 : replica.meta().newestEpoch();
                FrameCodec.write(out, FrameCodec.json(Frame.Type.HELLO_REPLY, Handshake.Reply.refusal(refusal, newest)));
                out.flush();
                LOG.info("volume {}: refused {}: {}", hello.volume(), hello.from(), refusal);
                replica = null;
                return;
            }
            primary = hello.from();
            ReplicaMetadata m = replica.meta();
            FrameCodec.write(out, FrameCodec.json(Frame.Type.HELLO_REPLY, new Handshake.Reply(null, m.newestEpoch(), m.ids(),
                    m.disk().name(), replica.freshFile(), m.isCrashedPrimary())));
            var mine = replica.bitmap(hello.from());
            FrameCodec.write(out, Frame.withBody(Frame.Type.PEER_BITMAP, ByteBuffer.wrap(mine == null ? new byte[0] : mine.toBytes())));
            out.flush();
            LOG.info("volume {}: {} streams to us under epoch {}", hello.volume(), hello.from(), hello.epoch());
            apply(replica, in, out);
        } catch (IOException e) {
            if (!closed) LOG.info("replication stream{} ended: {}", primary == null ? "" : " from " + primary, e.getMessage());
        } finally {
            if (replica != null) replica.detach(this);
            close();
        }
    }

    private void apply(Replica replica, DataInputStream in, DataOutputStream out) throws IOException {
        while (!closed) {
            Frame f = FrameCodec.read(in);
            if (f.type() != Frame.Type.PING && f.epoch() < replica.meta().newestEpoch() && f.epoch() != 0) {
                // a newer primary exists: this stream is from a fenced one
                FrameCodec.write(out, FrameCodec.json(Frame.Type.REFUSE, new Handshake.Refusal("stale epoch " + f.epoch()
                        + ": " + replica.self() + " has seen epoch " + replica.meta().newestEpoch())).withEpoch(replica.meta().newestEpoch()));
                out.flush();
                throw new IOException("refused a write from stale epoch " + f.epoch());
            }
            switch (f.type()) {
                case WRITE, RESYNC -> {
                    replica.store().write(f.offset(), f.body().duplicate());
                    ack(out, f.seq());
                }
                case TRIM -> {
                    replica.store().zero(f.offset(), f.length());
                    ack(out, f.seq());
                }
                case FLUSH -> {
                    replica.store().sync();
                    ack(out, f.seq());
                }
                case SYNC_START -> replica.syncStarting(FrameCodec.json(f, Handshake.SyncStart.class).blocks());
                case SYNC_DONE -> {
                    replica.syncDone(primary, FrameCodec.json(f, Handshake.SyncDone.class).ids());
                    ack(out, f.seq());
                }
                case VERIFY -> {
                    byte[] digests = replica.digests(f.offset(), (int) f.length());
                    send(out, new Frame(Frame.Type.VERIFY_REPLY, f.seq(), 0, f.offset(), f.length(), ByteBuffer.wrap(digests)));
                }
                case GENERATION -> {
                    replica.followGeneration(f.offset());
                    ack(out, f.seq());
                }
                case PING -> send(out, Frame.of(Frame.Type.PONG));
                case REFUSE -> {
                    String why = FrameCodec.json(f, Handshake.Refusal.class).reason();
                    replica.markDiverged(why);
                    throw new IOException("the primary refused us: " + why);
                }
                default -> throw new IOException("unexpected " + f.type() + " from the primary");
            }
            // acknowledgements go out together when the primary has sent more: one TLS record, one syscall
            if (in.available() == 0) out.flush();
        }
    }

    private static void ack(DataOutputStream out, long seq) throws IOException {
        send(out, Frame.of(Frame.Type.ACK, seq));
    }

    private static void send(DataOutputStream out, Frame f) throws IOException {
        FrameCodec.write(out, f);
    }

    void close() {
        closed = true;
        try {
            raw.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }
}
