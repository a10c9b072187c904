package dev.tandem.replication.meta;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One bit per block: the blocks of a volume that changed here and that one peer lacks. The write
 * path sets bits from several threads while a resync thread clears them, so every word is updated
 * with a compare-and-set; no lock is taken.
 *
 * <p>Operations on ranges are atomic per 64-block word, not as a whole; {@link #toBytes()} and
 * {@link #save(Path)} see each word at some moment during the call. That is enough for its uses:
 * a bit set before a snapshot starts is in the snapshot.
 *
 * <p>Byte form (wire and file): the words as little-endian longs; word {@code i} bit {@code j}
 * is block {@code 64 * i + j}; bits past the last block are zero.
 */
public final class DirtyBitmap {
    private static final long ALL = -1L;

    private final long blocks;
    private final AtomicLongArray words;
    private final AtomicLong cardinality = new AtomicLong();

    /** An empty bitmap for a volume of {@code blocks} blocks (at most 2^37). */
    public DirtyBitmap(long blocks) {
        if (blocks < 0 || wordsFor(blocks) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("unsupported number of blocks: " + blocks);
        }
        this.blocks = blocks;
        this.words = new AtomicLongArray((int) wordsFor(blocks));
    }

    public long blocks() {
        return blocks;
    }

    public void set(long block) {
        set(block, 1);
    }

    /** Sets {@code count} blocks from {@code firstBlock}. */
    public void set(long firstBlock, long count) {
        checkRange(firstBlock, count);
        forEachWord(firstBlock, count, this::orWord);
    }

    /** Sets every block that the byte range {@code [offset, offset + length)} touches. */
    public void setRange(long offset, long length, int blockSize) {
        if (offset < 0 || length < 0 || blockSize <= 0) {
            throw new IllegalArgumentException("bad byte range " + offset + "+" + length + " / " + blockSize);
        }
        if (length == 0) {
            return;
        }
        long first = offset / blockSize;
        long last = (offset + length - 1) / blockSize;
        set(first, last - first + 1);
    }

    public void clear(long block) {
        clear(block, 1);
    }

    /** Clears {@code count} blocks from {@code firstBlock}. */
    public void clear(long firstBlock, long count) {
        checkRange(firstBlock, count);
        forEachWord(firstBlock, count, this::clearWord);
    }

    public boolean get(long block) {
        checkRange(block, 1);
        return (words.get(wordIndex(block)) & bit(block)) != 0;
    }

    /** The number of set blocks (exact when no update is under way). */
    public long cardinality() {
        return cardinality.get();
    }

    public boolean isEmpty() {
        return cardinality() == 0;
    }

    /** The first set block at or after {@code from}, or -1 when there is none. */
    public long nextSetBit(long from) {
        if (from < 0) {
            throw new IllegalArgumentException("negative block " + from);
        }
        if (from >= blocks) {
            return -1;
        }
        int index = wordIndex(from);
        long word = words.get(index) & (ALL << (from & 63));
        while (word == 0) {
            if (++index == words.length()) {
                return -1;
            }
            word = words.get(index);
        }
        return (long) index * 64 + Long.numberOfTrailingZeros(word);
    }

    /** Sets every block that is set in {@code other} (a bitmap of the same size). */
    public void or(DirtyBitmap other) {
        if (other.blocks != blocks) {
            throw new IllegalArgumentException("bitmap sizes differ: " + blocks + " vs " + other.blocks);
        }
        for (int i = 0; i < words.length(); i++) {
            long word = other.words.get(i);
            if (word != 0) {
                orWord(i, word);
            }
        }
    }

    public void clearAll() {
        for (int i = 0; i < words.length(); i++) {
            clearWord(i, ALL);
        }
    }

    public void setAll() {
        if (blocks > 0) {
            set(0, blocks);
        }
    }

    /** The compact byte form (see the class comment). */
    public byte[] toBytes() {
        ByteBuffer buffer = ByteBuffer.allocate(words.length() * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < words.length(); i++) {
            buffer.putLong(words.get(i));
        }
        return buffer.array();
    }

    /** Reads the byte form of a bitmap of {@code blocks} blocks. */
    public static DirtyBitmap fromBytes(byte[] bytes, long blocks) {
        DirtyBitmap bitmap = new DirtyBitmap(blocks);
        long expected = bitmap.byteSize();
        if (bytes.length != expected) {
            throw new IllegalArgumentException("a bitmap of " + blocks + " blocks takes " + expected
                    + " bytes, got " + bytes.length);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long lastWordMask = lastWordMask(blocks);
        for (int i = 0; i < bitmap.words.length(); i++) {
            long word = buffer.getLong();
            if (i == bitmap.words.length() - 1 && (word & ~lastWordMask) != 0) {
                throw new IllegalArgumentException("bits set past block " + blocks);
            }
            bitmap.words.set(i, word);
            bitmap.cardinality.addAndGet(Long.bitCount(word));
        }
        return bitmap;
    }

    /** The size of the byte form. */
    public long byteSize() {
        return (long) words.length() * Long.BYTES;
    }

    /** Writes the byte form to {@code file}, atomically and durably ({@link AtomicFiles}). */
    public void save(Path file) throws IOException {
        AtomicFiles.write(file, toBytes());
    }

    /**
     * Reads a bitmap saved by {@link #save}. A missing file is an empty bitmap (nothing was ever
     * tracked); a file of the wrong size is an error naming the file.
     */
    public static DirtyBitmap load(Path file, long blocks) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new DirtyBitmap(blocks);
        }
        try {
            return fromBytes(bytes, blocks);
        } catch (IllegalArgumentException e) {
            throw new IOException("bitmap file " + file + " does not fit a volume of " + blocks + " blocks: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "DirtyBitmap[" + cardinality() + " of " + blocks + " blocks]";
    }

    private interface WordUpdate {
        void apply(int index, long mask);
    }

    /** Calls {@code update} once per word the block range covers, with the mask of its blocks. */
    private static void forEachWord(long firstBlock, long count, WordUpdate update) {
        if (count == 0) {
            return;
        }
        long lastBlock = firstBlock + count - 1;
        int firstWord = wordIndex(firstBlock);
        int lastWord = wordIndex(lastBlock);
        for (int i = firstWord; i <= lastWord; i++) {
            long mask = ALL;
            if (i == firstWord) {
                mask &= ALL << (firstBlock & 63);
            }
            if (i == lastWord) {
                mask &= ALL >>> (63 - (lastBlock & 63));
            }
            update.apply(i, mask);
        }
    }

    private void orWord(int index, long mask) {
        long old;
        do {
            old = words.get(index);
            if ((old | mask) == old) {
                return;
            }
        } while (!words.compareAndSet(index, old, old | mask));
        cardinality.addAndGet(Long.bitCount(mask & ~old));
    }

    private void clearWord(int index, long mask) {
        long old;
        do {
            old = words.get(index);
            if ((old & mask) == 0) {
                return;
            }
        } while (!words.compareAndSet(index, old, old & ~mask));
        cardinality.addAndGet(-Long.bitCount(old & mask));
    }

    private void checkRange(long firstBlock, long count) {
        if (firstBlock < 0 || count < 0 || firstBlock > blocks - count) {
            throw new IndexOutOfBoundsException("blocks " + firstBlock + "+" + count + " outside 0.." + blocks);
        }
    }

    private static long wordsFor(long blocks) {
        return (blocks + 63) / 64;
    }

    private static int wordIndex(long block) {
        return (int) (block >>> 6);
    }

    private static long bit(long block) {
        return 1L << (block & 63);
    }

    private static long lastWordMask(long blocks) {
        int used = (int) (blocks & 63);
        return used == 0 ? ALL : (1L << used) - 1;
    }
}
