package dev.tandem.replication.meta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirtyBitmapTest {
    @TempDir
    Path directory;

    @Test
    void rangesAcrossWordBoundaries() {
        DirtyBitmap bitmap = new DirtyBitmap(300);
        bitmap.set(60, 10);
        assertThat(bitmap.cardinality()).isEqualTo(10);
        assertThat(bitmap.get(59)).isFalse();
        assertThat(bitmap.get(60)).isTrue();
        assertThat(bitmap.get(69)).isTrue();
        assertThat(bitmap.get(70)).isFalse();
        bitmap.set(65, 100); // overlaps: only the new bits count
        assertThat(bitmap.cardinality()).isEqualTo(105);
        bitmap.clear(64, 2);
        assertThat(bitmap.cardinality()).isEqualTo(103);
        assertThat(bitmap.nextSetBit(0)).isEqualTo(60);
        assertThat(bitmap.nextSetBit(64)).isEqualTo(66);
        assertThat(bitmap.nextSetBit(165)).isEqualTo(-1);
        assertThat(bitmap.nextSetBit(300)).isEqualTo(-1);
        bitmap.clear(60);
        assertThat(bitmap.nextSetBit(0)).isEqualTo(61);
    }

    @Test
    void behavesLikeABitSet() {
        SplittableRandom random = new SplittableRandom(5);
        DirtyBitmap bitmap = new DirtyBitmap(1000);
        BitSet model = new BitSet(1000);
        for (int i = 0; i < 5000; i++) {
            int first = random.nextInt(1000);
            int count = random.nextInt(Math.min(200, 1000 - first) + 1);
            if (random.nextBoolean()) {
                bitmap.set(first, count);
                model.set(first, first + count);
            } else {
                bitmap.clear(first, count);
                model.clear(first, first + count);
            }
            assertThat(bitmap.cardinality()).isEqualTo(model.cardinality());
            int probe = random.nextInt(1000);
            assertThat(bitmap.nextSetBit(probe)).isEqualTo(model.nextSetBit(probe));
        }
    }

    @Test
    void byteRangesMarkEveryTouchedBlock() {
        DirtyBitmap bitmap = new DirtyBitmap(10);
        bitmap.setRange(4095, 2, 4096);
        assertThat(bitmap.get(0)).isTrue();
        assertThat(bitmap.get(1)).isTrue();
        assertThat(bitmap.cardinality()).isEqualTo(2);
        bitmap.setRange(8192, 4096, 4096);
        assertThat(bitmap.cardinality()).isEqualTo(3);
        bitmap.setRange(9 * 4096L, 0, 4096);
        assertThat(bitmap.get(9)).isFalse();
        assertThatThrownBy(() -> bitmap.setRange(9 * 4096L, 4097, 4096)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void setAllClearAllAndOrRespectTheSize() {
        DirtyBitmap bitmap = new DirtyBitmap(130);
        bitmap.setAll();
        assertThat(bitmap.cardinality()).isEqualTo(130);
        assertThat(bitmap.nextSetBit(129)).isEqualTo(129);
        bitmap.clearAll();
        assertThat(bitmap.isEmpty()).isTrue();
        DirtyBitmap other = new DirtyBitmap(130);
        other.set(3);
        other.set(129);
        bitmap.set(3);
        bitmap.or(other);
        assertThat(bitmap.cardinality()).isEqualTo(2);
        assertThatThrownBy(() -> bitmap.or(new DirtyBitmap(131))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bytesRoundTrip() {
        DirtyBitmap bitmap = new DirtyBitmap(130);
        bitmap.set(0);
        bitmap.set(64, 3);
        bitmap.set(129);
        byte[] bytes = bitmap.toBytes();
        assertThat(bytes).hasSize(24);
        assertThat(bytes[0]).isEqualTo((byte) 1); // little-endian words
        DirtyBitmap copy = DirtyBitmap.fromBytes(bytes, 130);
        assertThat(copy.cardinality()).isEqualTo(5);
        assertThat(copy.toBytes()).isEqualTo(bytes);
        assertThatThrownBy(() -> DirtyBitmap.fromBytes(bytes, 200)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirtyBitmap.fromBytes(bytes, 129)).hasMessageContaining("past block");
    }

    @Test
    void saveAndLoad() throws IOException {
        Path file = directory.resolve("b1.bitmap");
        assertThat(DirtyBitmap.load(file, 1000).isEmpty()).as("missing file: nothing tracked").isTrue();
        DirtyBitmap bitmap = new DirtyBitmap(1000);
        bitmap.set(10, 20);
        bitmap.save(file);
        bitmap.clearAll();
        bitmap.save(file);
        bitmap.set(999);
        bitmap.save(file);
        DirtyBitmap loaded = DirtyBitmap.load(file, 1000);
        assertThat(loaded.cardinality()).isEqualTo(1);
        assertThat(loaded.get(999)).isTrue();
        try (var entries = Files.list(directory)) {
            assertThat(entries).as("no temporary files left").containsExactly(file);
        }
        assertThatThrownBy(() -> DirtyBitmap.load(file, 2000))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void oneTebibyteOfFourKibibyteBlocks() {
        long blocks = 1L << 28;
        DirtyBitmap bitmap = new DirtyBitmap(blocks);
        bitmap.set(blocks - 1);
        bitmap.set(1L << 27, 3);
        assertThat(bitmap.cardinality()).isEqualTo(4);
        assertThat(bitmap.nextSetBit(0)).isEqualTo(1L << 27);
        assertThat(bitmap.nextSetBit((1L << 27) + 3)).isEqualTo(blocks - 1);
        assertThat(bitmap.byteSize()).isEqualTo(32L << 20);
    }

    @Test
    void concurrentSettersAndClearersKeepAnExactCount() throws Exception {
        DirtyBitmap bitmap = new DirtyBitmap(64 * 16);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    // each thread owns every 8th block, so its blocks share words with all others
                    for (int round = 0; round < 200; round++) {
                        for (int block = thread; block < 64 * 16; block += threads) {
                            bitmap.set(block);
                        }
                        for (int block = thread; block < 64 * 16; block += 2 * threads) {
                            bitmap.clear(block);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(bitmap.cardinality()).isEqualTo(64 * 16 / 2);
        long counted = 0;
        for (long block = bitmap.nextSetBit(0); block >= 0; block = bitmap.nextSetBit(block + 1)) {
            counted++;
        }
        assertThat(counted).isEqualTo(bitmap.cardinality());
    }
}
