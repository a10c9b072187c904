package dev.tandem.replication.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A replica's data: a file in the data directory (created sparse at the volume's size) or a block
 * device the operator named. Positional reads and writes, safe from several threads at once.
 */
public final class BlockStore implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;

    private BlockStore(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    /** A file: created at {@code size} if missing; refused if it exists with another size. */
    public static BlockStore file(Path path, long size) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long existing = ch.size();
        if (existing == 0) {
            // sparse: a 1 GiB volume costs nothing until written
            ch.write(ByteBuffer.allocate(1), size - 1);
        } else if (existing != size) {
            ch.close();
            throw new IOException(path + " holds " + existing + " bytes, but the volume is " + size + " bytes");
        }
        return new BlockStore(path, ch, size);
    }

    /** A block device: it must be at least {@code size} bytes; only the first {@code size} are used. */
    public static BlockStore device(Path device, long size) throws IOException {
        FileChannel ch = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE);
        long capacity = ch.size();
        if (capacity < size) {
            ch.close();
            throw new IOException("device " + device + " has " + capacity + " bytes; the volume needs " + size);
        }
        return new BlockStore(device, ch, size);
    }

    public Path path() {
        return path;
    }

    public long size() {
        return size;
    }

    public void read(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) throw new IOException("unexpected end of " + path + " at " + at);
            at += n;
        }
    }

    public void write(long offset, ByteBuffer src) throws IOException {
        long at = offset;
        while (src.hasRemaining()) at += channel.write(src, at);
    }

    /** Zeroes a range (TRIM): the simplest way to keep every replica byte-identical after a discard. */
    public void zero(long offset, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long at = offset;
        long end = offset + length;
        while (at < end) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), end - at));
            write(at, zeros);
            at += zeros.limit();
        }
    }

    public void sync() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
