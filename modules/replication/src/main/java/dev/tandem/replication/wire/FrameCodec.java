package dev.tandem.replication.wire;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The replication stream's framing: a 1-byte type, four longs and a length-prefixed body. A peer
 * that sends an unknown type or an oversized body is cut off: the stream is no longer trustworthy.
 */
public final class FrameCodec {
    /** Larger than any write an NBD client may send (32 MiB) plus a bitmap chunk. */
    public static final int MAX_BODY = 33 << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .findAndRegisterModules()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private FrameCodec() {}

    public static void write(DataOutputStream out, Frame frame) throws IOException {
        out.writeByte(frame.type().ordinal());
        out.writeLong(frame.seq());
        out.writeLong(frame.epoch());
        out.writeLong(frame.offset());
        out.writeLong(frame.length());
        ByteBuffer body = frame.body();
        if (body == null) {
            out.writeInt(0);
            return;
        }
        ByteBuffer b = body.duplicate();
        out.writeInt(b.remaining());
        if (b.hasArray()) {
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        } else {
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            out.write(copy);
        }
    }

    public static Frame read(DataInputStream in) throws IOException {
        int typeIndex = in.read();
        if (typeIndex < 0) throw new EOFException("the peer closed the stream");
        Frame.Type[] types = Frame.Type.values();
        if (typeIndex >= types.length) throw new IOException("unknown frame type " + typeIndex);
        long seq = in.readLong();
        long epoch = in.readLong();
        long offset = in.readLong();
        long length = in.readLong();
        int size = in.readInt();
        if (size < 0 || size > MAX_BODY) throw new IOException("frame body of " + size + " bytes is out of bounds");
        ByteBuffer body = null;
        if (size > 0) {
            byte[] data = new byte[size];
            in.readFully(data);
            body = ByteBuffer.wrap(data);
        }
        return new Frame(types[typeIndex], seq, epoch, offset, length, body);
    }

    public static Frame json(Frame.Type type, Object value) {
        try {
            return Frame.withBody(type, ByteBuffer.wrap(JSON.writeValueAsBytes(value)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static <T> T json(Frame frame, Class<T> type) throws IOException {
        if (frame.body() == null) throw new IOException(frame.type() + " without a body");
        ByteBuffer b = frame.body().duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new IOException("unreadable " + frame.type() + ": " + new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8), e);
        }
    }
}
