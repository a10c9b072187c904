package dev.tandem.replication.meta;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a file's whole content so that after a crash at any moment the file holds either the old
 * content or the new one, never a mixture, and once {@link #write} returns the new content survives a
 * power loss.
 *
 * <p>The recipe: write a temporary file in the same directory, fsync it, rename it over the target
 * (atomic within one file system), then fsync the directory so that the rename itself is durable.
 * Linux semantics are assumed (a directory can be opened and forced).
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /**
     * Atomically and durably replaces {@code target} with {@code content}. The parent directory must
     * exist. A stray temporary file ({@code .<name>.*.tmp}) may remain only if the process dies mid-way.
     */
    public static void write(Path target, byte[] content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = Files.createTempFile(directory, "." + absolute.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                // the data must be on disk before the rename can expose it under the real name
                channel.force(true);
            }
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            forceDirectory(directory);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temporary);
            }
        }
    }

    /** A rename is only durable once the directory entry is; without this a crash can undo it. */
    private static void forceDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
