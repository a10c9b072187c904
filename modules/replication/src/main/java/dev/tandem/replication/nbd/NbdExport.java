package dev.tandem.replication.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One block device an {@link NbdServer} serves. Calls may come from several threads at once; each
 * returns only when the operation is complete in the export's own sense (for a replicated volume:
 * when its protocol allows the acknowledgement).
 */
public interface NbdExport {
    String name();

    long size();

    /** Writes are refused with EPERM (a secondary is never exported; a demoting primary may turn read-only). */
    boolean readOnly();

    /** Fills {@code dst} completely from {@code offset}; {@code dst} must not be used after returning. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes all of {@code src} at {@code offset}; with {@code fua}, on stable storage before returning.
     * {@code src} may be read-only (zeroes come from a shared buffer) and must not be used after returning.
     */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Every write completed before this call reaches stable storage. */
    void flush() throws IOException;

    /** The range's contents become unspecified (a hint; may do nothing but must not fail for that). */
    void trim(long offset, long length) throws IOException;
}
