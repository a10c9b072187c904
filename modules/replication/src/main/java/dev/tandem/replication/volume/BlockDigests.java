package dev.tandem.replication.volume;

import dev.tandem.replication.store.BlockStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Per-block digests for online verify: 8 bytes of SHA-256 per block, enough to find a differing block. */
final class BlockDigests {
    static final int BYTES = 8;

    private BlockDigests() {}

    static byte[] of(BlockStore store, int blockSize, long firstBlock, int count) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] out = new byte[count * BYTES];
        ByteBuffer block = ByteBuffer.allocate(blockSize);
        for (int i = 0; i < count; i++) {
            block.clear();
            store.read((firstBlock + i) * blockSize, block);
            block.flip();
            sha.update(block);
            System.arraycopy(sha.digest(), 0, out, i * BYTES, BYTES);
        }
        return out;
    }
}
