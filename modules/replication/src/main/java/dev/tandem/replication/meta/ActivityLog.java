package dev.tandem.replication.meta;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.LongStream;
import java.util.zip.CRC32;

/**
 * DRBD's activity log: a durable, bounded over-approximation of where the primary may be writing.
 *
 * <p>The primary writes locally and sends to its peers at the same time. If it crashes, blocks it
 * wrote locally but a peer never acknowledged must be resynced later — but persisting a bitmap bit
 * before every write would cost an fsync per write. Instead the volume is cut into extents
 * (default 4 MiB) and at most {@code slots} of them (default 64) are "hot"; a write may only touch
 * hot extents, and an extent becomes hot only once the log file durably says so. Writes to hot
 * extents cost nothing extra. After an unclean stop every block of the recorded extents is treated
 * as possibly different from the peers ({@link #recoveredRanges()}): the engine sets those blocks
 * in every peer's {@link DirtyBitmap} and saves the bitmaps before calling {@link #markInUse()} or
 * {@link #markClean()}, which overwrite the record.
 *
 * <p>When a new extent must come in and all slots are taken, the least recently used extent with
 * no write in flight leaves; if every hot extent is busy, the writer waits. A writer that needs
 * several extents reserves all or none, so writers never hold slots while waiting for others.
 * Several writers needing new extents at once share one file update (group commit).
 *
 * <p>The file is a small record rewritten through {@link AtomicFiles}: magic, format version,
 * state (clean / in use), extent size, the hot extents, CRC-32.
 */
public final class ActivityLog {
    public static final long DEFAULT_EXTENT_BYTES = 4L << 20;
    public static final int DEFAULT_SLOTS = 64;

    private static final int MAGIC = 0x54414c31; // "TAL1"
    private static final int FORMAT = 1;
    private static final byte CLEAN = 0;
    private static final byte IN_USE = 1;

    private final Path file;
    private final long volumeBytes;
    private final long extentBytes;
    private final int slots;
    private final boolean openedAfterUncleanStop;
    private final List<long[]> recoveredRanges;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a slot may have become free or the durable state advanced. */
    private final Condition changed = lock.newCondition();
    /** Hot extents in access order: the first one is the least recently used. */
    private final LinkedHashMap<Long, Extent> hot = new LinkedHashMap<>(16, 0.75f, true);
    /** Bumped each time an extent joins the hot set. */
    private long version;
    /** The highest version the file durably reflects. */
    private long durableVersion;
    private boolean persisting;
    private boolean inUse;
    private int waiting;
    private final AtomicLong fileUpdates = new AtomicLong();

    private static final class Extent {
        final long addedAt;
        int inFlight;

        Extent(long addedAt) {
            this.addedAt = addedAt;
        }
    }

    private ActivityLog(Path file, long volumeBytes, long extentBytes, int slots, Record record) {
        this.file = file;
        this.volumeBytes = volumeBytes;
        this.extentBytes = extentBytes;
        this.slots = slots;
        this.openedAfterUncleanStop = record != null && record.state == IN_USE;
        this.recoveredRanges = openedAfterUncleanStop ? record.ranges(volumeBytes) : List.of();
    }

    /** {@link #open(Path, long, long, int)} with the default extent size and number of slots. */
    public static ActivityLog open(Path file, long volumeBytes) throws IOException {
        return open(file, volumeBytes, DEFAULT_EXTENT_BYTES, DEFAULT_SLOTS);
    }

    /**
     * Reads what the file recorded (a missing file: a fresh volume, nothing to recover) without
     * changing it. The log starts out not in use: call {@link #markInUse()} before the first write.
     */
    public static ActivityLog open(Path file, long volumeBytes, long extentBytes, int slots) throws IOException {
        if (volumeBytes < 0 || extentBytes <= 0 || slots <= 0) {
            throw new IllegalArgumentException("bad activity log geometry: volume " + volumeBytes
                    + " bytes, extent " + extentBytes + " bytes, " + slots + " slots");
        }
        return new ActivityLog(file, volumeBytes, extentBytes, slots, Record.read(file));
    }

    public long extentBytes() {
        return extentBytes;
    }

    public int slots() {
        return slots;
    }

    /** True if the file said "in use" when opened: the replica stopped uncleanly while primary. */
    public boolean openedAfterUncleanStop() {
        return openedAfterUncleanStop;
    }

    /**
     * The byte ranges {@code {offset, length}} that were hot at an unclean stop, in order, clipped
     * to the volume; empty after a clean stop. Independent of this log's extent size, so changing
     * the extent size between runs loses nothing.
     */
    public List<long[]> recoveredRanges() {
        List<long[]> copy = new ArrayList<>(recoveredRanges.size());
        recoveredRanges.forEach(range -> copy.add(range.clone()));
        return copy;
    }

    /** The extents (of this log's size) that {@link #recoveredRanges()} touch. */
    public LongStream recoveredExtents() {
        return recoveredRanges.stream()
                .flatMapToLong(range -> LongStream.rangeClosed(range[0] / extentBytes,
                        (range[0] + range[1] - 1) / extentBytes))
                .distinct()
                .sorted();
    }

    /**
     * Starts serving as primary: durably records "in use" with no hot extent yet. Idempotent.
     * Call only once any {@link #recoveredRanges()} are recorded elsewhere.
     */
    public void markInUse() throws IOException {
        lock.lock();
        try {
            awaitNotPersisting();
            writeRecord(IN_USE, hotExtents());
            inUse = true;
            durableVersion = version;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Orderly shutdown or demotion: durably records "clean" so that the next open recovers
     * nothing. No write may be in flight.
     */
    public void markClean() throws IOException {
        lock.lock();
        try {
            awaitNotPersisting();
            for (Map.Entry<Long, Extent> entry : hot.entrySet()) {
                if (entry.getValue().inFlight > 0) {
                    throw new IllegalStateException("a write is still in flight in extent " + entry.getKey());
                }
            }
            writeRecord(CLEAN, new long[0]);
            hot.clear();
            inUse = false;
            durableVersion = version;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Call before writing {@code [offset, offset + length)}: returns once every extent the range
     * touches is durably hot, and counts the write as in flight until {@link #end}. May block
     * (waiting for a free slot or for the file update). A range may touch at most {@code slots}
     * extents; split larger writes.
     *
     * @throws InterruptedIOException if interrupted while waiting (the interrupt flag stays set;
     *         nothing is counted in flight)
     */
    public void begin(long offset, long length) throws IOException {
        long first = firstExtent(offset, length);
        long last = lastExtent(offset, length);
        if (first > last) {
            return;
        }
        if (last - first + 1 > slots) {
            throw new IllegalArgumentException("a write of " + length + " bytes touches " + (last - first + 1)
                    + " extents, more than the " + slots + " slots of the activity log");
        }
        lock.lock();
        try {
            if (!inUse) {
                throw new IllegalStateException("activity log is not in use; call markInUse() first");
            }
            while (!tryReserve(first, last)) {
                await();
            }
            try {
                makeDurable(newestAddition(first, last));
            } catch (IOException | RuntimeException | Error e) {
                release(first, last);
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Call when the write begun with the same range completed (successfully or not). */
    public void end(long offset, long length) {
        long first = firstExtent(offset, length);
        long last = lastExtent(offset, length);
        lock.lock();
        try {
            for (long extent = first; extent <= last; extent++) {
                Extent hotExtent = hot.get(extent);
                if (hotExtent == null || hotExtent.inFlight == 0) {
                    throw new IllegalStateException("end() without begin() for extent " + extent);
                }
            }
            release(first, last);
        } finally {
            lock.unlock();
        }
    }

    /** The hot extents, ascending (for tests and status). */
    public long[] hotExtents() {
        lock.lock();
        try {
            long[] extents = hot.keySet().stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(extents);
            return extents;
        } finally {
            lock.unlock();
        }
    }

    /** How many times the file was rewritten (each costs two fsyncs). */
    long fileUpdates() {
        return fileUpdates.get();
    }

    /** How many writers are blocked waiting (for tests). */
    int waitingWriters() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** The extents the file durably lists, or null if it says clean or does not exist (for tests). */
    static long[] durableExtents(Path file) throws IOException {
        Record record = Record.read(file);
        return record == null || record.state == CLEAN ? null : record.extents;
    }

    // --- reservation (lock held) ---

    /** Makes all extents of the range hot and counts a write in each, or changes nothing. */
    private boolean tryReserve(long first, long last) {
        int missing = 0;
        for (long extent = first; extent <= last; extent++) {
            if (!hot.containsKey(extent)) {
                missing++;
            }
        }
        int toEvict = missing - (slots - hot.size());
        if (toEvict > 0 && idleOutside(first, last) < toEvict) {
            return false;
        }
        if (toEvict > 0) {
            evictLeastRecentlyUsed(toEvict, first, last);
        }
        if (missing > 0) {
            version++;
        }
        for (long extent = first; extent <= last; extent++) {
            Extent hotExtent = hot.get(extent); // also marks it most recently used
            if (hotExtent == null) {
                hotExtent = new Extent(version);
                hot.put(extent, hotExtent);
            }
            hotExtent.inFlight++;
        }
        return true;
    }

    private int idleOutside(long first, long last) {
        int idle = 0;
        for (Map.Entry<Long, Extent> entry : hot.entrySet()) {
            long extent = entry.getKey();
            if (entry.getValue().inFlight == 0 && (extent < first || extent > last)) {
                idle++;
            }
        }
        return idle;
    }

    private void evictLeastRecentlyUsed(int count, long first, long last) {
        Iterator<Map.Entry<Long, Extent>> entries = hot.entrySet().iterator();
        while (count > 0) {
            Map.Entry<Long, Extent> entry = entries.next();
            long extent = entry.getKey();
            if (entry.getValue().inFlight == 0 && (extent < first || extent > last)) {
                // dropping it needs no file update: an extra extent on disk only costs resync work
                entries.remove();
                count--;
            }
        }
    }

    private long newestAddition(long first, long last) {
        long newest = 0;
        for (long extent = first; extent <= last; extent++) {
            newest = Math.max(newest, peek(extent).addedAt);
        }
        return newest;
    }

    private void release(long first, long last) {
        for (long extent = first; extent <= last; extent++) {
            Extent hotExtent = peek(extent);
            if (--hotExtent.inFlight == 0) {
                changed.signalAll();
            }
        }
    }

    /** Looks an extent up without changing the recency order. */
    private Extent peek(long extent) {
        for (Map.Entry<Long, Extent> entry : hot.entrySet()) {
            if (entry.getKey() == extent) {
                return entry.getValue();
            }
        }
        throw new IllegalStateException("extent " + extent + " is not hot");
    }

    // --- durability (lock held on entry and exit) ---

    /**
     * Returns once the file reflects {@code needed}. One writer at a time rewrites the file, with
     * the lock released, carrying every extent added so far; the others wait for it.
     */
    private void makeDurable(long needed) throws IOException {
        while (durableVersion < needed) {
            if (persisting) {
                await();
                continue;
            }
            persisting = true;
            long snapshotVersion = version;
            long[] snapshot = hotExtents();
            boolean written = false;
            lock.unlock();
            try {
                writeRecord(IN_USE, snapshot);
                written = true;
            } finally {
                lock.lock();
                persisting = false;
                if (written) {
                    durableVersion = Math.max(durableVersion, snapshotVersion);
                }
                changed.signalAll();
            }
        }
    }

    private void awaitNotPersisting() throws InterruptedIOException {
        while (persisting) {
            await();
        }
    }

    private void await() throws InterruptedIOException {
        waiting++;
        try {
            changed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the activity log");
        } finally {
            waiting--;
        }
    }

    private void writeRecord(byte state, long[] extents) throws IOException {
        AtomicFiles.write(file, new Record(state, extentBytes, extents).toBytes());
        fileUpdates.incrementAndGet();
    }

    private long firstExtent(long offset, long length) {
        checkRange(offset, length);
        return offset / extentBytes;
    }

    private long lastExtent(long offset, long length) {
        return length == 0 ? offset / extentBytes - 1 : (offset + length - 1) / extentBytes;
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > volumeBytes - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside the volume of "
                    + volumeBytes + " bytes");
        }
    }

    /** The file's content. */
    private record Record(byte state, long extentBytes, long[] extents) {
        byte[] toBytes() {
            ByteBuffer buffer = ByteBuffer.allocate(4 + 4 + 1 + 8 + 4 + extents.length * 8 + 8);
            buffer.putInt(MAGIC).putInt(FORMAT).put(state).putLong(extentBytes).putInt(extents.length);
            for (long extent : extents) {
                buffer.putLong(extent);
            }
            CRC32 crc = new CRC32();
            crc.update(buffer.array(), 0, buffer.position());
            buffer.putLong(crc.getValue());
            return buffer.array();
        }

        static Record read(Path file) throws IOException {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                return null;
            }
            try {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                if (buffer.getInt() != MAGIC || buffer.getInt() != FORMAT) {
                    throw new IOException("activity log " + file + " has an unknown format");
                }
                byte state = buffer.get();
                long extentBytes = buffer.getLong();
                int count = buffer.getInt();
                if ((state != CLEAN && state != IN_USE) || extentBytes <= 0 || count < 0
                        || count > buffer.remaining() / 8) {
                    throw new IOException("activity log " + file + " is damaged");
                }
                long[] extents = new long[count];
                for (int i = 0; i < count; i++) {
                    extents[i] = buffer.getLong();
                }
                CRC32 crc = new CRC32();
                crc.update(bytes, 0, buffer.position());
                if (buffer.getLong() != crc.getValue() || buffer.hasRemaining()) {
                    throw new IOException("activity log " + file + " fails its checksum");
                }
                return new Record(state, extentBytes, extents);
            } catch (BufferUnderflowException e) {
                throw new IOException("activity log " + file + " is truncated", e);
            }
        }

        /** The extents as sorted byte ranges clipped to the volume. */
        List<long[]> ranges(long volumeBytes) {
            List<long[]> ranges = new ArrayList<>();
            long[] sorted = extents.clone();
            Arrays.sort(sorted);
            for (long extent : sorted) {
                long offset = extent * extentBytes;
                if (extent >= 0 && offset / extentBytes == extent && offset < volumeBytes) {
                    ranges.add(new long[] {offset, Math.min(extentBytes, volumeBytes - offset)});
                }
            }
            return List.copyOf(ranges);
        }
    }
}
