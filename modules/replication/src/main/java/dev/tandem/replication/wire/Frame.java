package dev.tandem.replication.wire;

import java.nio.ByteBuffer;

/**
 * One message of the replication stream. Fixed numeric fields travel in the header so that the write
 * path never parses text; handshakes and reports carry a small JSON body instead.
 *
 * @param seq the primary's sequence number of a write, flush or request (answered by {@link Type#ACK} with the same number)
 * @param epoch the primary's epoch when it sent the frame
 * @param offset a byte offset on the volume (WRITE, TRIM, RESYNC) or a first block (VERIFY)
 * @param length a byte count (TRIM) or a block count (VERIFY); the body's length otherwise
 */
public record Frame(Type type, long seq, long epoch, long offset, long length, ByteBuffer body) {

    public enum Type {
        /** primary → secondary: who I am, my epoch and generation ids (JSON) */
        HELLO,
        /** secondary → primary: my generation ids and disk state, or why not (JSON) */
        HELLO_REPLY,
        /** secondary → primary: the blocks I hold that the primary may lack (a bitmap) */
        PEER_BITMAP,
        /** primary → secondary: a resync is starting; your disk is inconsistent until it is done (JSON) */
        SYNC_START,
        /** primary → secondary: one resynced range */
        RESYNC,
        /** primary → secondary: the resync is complete; adopt these generation ids (JSON) */
        SYNC_DONE,
        /** primary → in-sync secondary: the primary started a new data generation (its id in the offset field) */
        GENERATION,
        WRITE,
        TRIM,
        /** everything before this is on stable storage before the ACK */
        FLUSH,
        ACK,
        /** a digest per block of a range, for online verify */
        VERIFY,
        VERIFY_REPLY,
        /** keeps a silent link from looking dead, and finds a dead one */
        PING,
        PONG,
        /** the sender refuses the link (stale epoch, wrong volume, divergence): JSON reason */
        REFUSE
    }

    public Frame withSeq(long value) {
        return new Frame(type, value, epoch, offset, length, body);
    }

    public Frame withEpoch(long value) {
        return new Frame(type, seq, value, offset, length, body);
    }

    public static Frame of(Type type) {
        return new Frame(type, 0, 0, 0, 0, null);
    }

    public static Frame of(Type type, long seq) {
        return new Frame(type, seq, 0, 0, 0, null);
    }

    public static Frame withBody(Type type, ByteBuffer body) {
        return new Frame(type, 0, 0, 0, body.remaining(), body);
    }
}
