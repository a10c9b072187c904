package dev.tandem.replication.meta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivityLogTest {
    private static final long EXTENT = 1 << 20;
    private static final long VOLUME = 64 * EXTENT + 12345; // a partial last extent

    @TempDir
    Path directory;

    private Path file() {
        return directory.resolve("activity.log");
    }

    private ActivityLog openInUse(int slots) throws IOException {
        ActivityLog log = ActivityLog.open(file(), VOLUME, EXTENT, slots);
        log.markInUse();
        return log;
    }

    private static void write(ActivityLog log, long extent) throws IOException {
        log.begin(extent * EXTENT + 100, 10);
        log.end(extent * EXTENT + 100, 10);
    }

    @Test
    void writesToHotExtentsCostNoFileUpdate() throws IOException {
        ActivityLog log = openInUse(4);
        assertThat(log.fileUpdates()).isEqualTo(1);
        write(log, 3);
        assertThat(log.fileUpdates()).isEqualTo(2);
        for (int i = 0; i < 100; i++) {
            write(log, 3);
        }
        assertThat(log.fileUpdates()).isEqualTo(2);
        // a write straddling extents 3 and 4 brings in only 4, with one update
        log.begin(4 * EXTENT - 5, 10);
        log.end(4 * EXTENT - 5, 10);
        assertThat(log.fileUpdates()).isEqualTo(3);
        assertThat(log.hotExtents()).containsExactly(3, 4);
    }

    @Test
    void theLeastRecentlyUsedIdleExtentLeaves() throws IOException {
        ActivityLog log = openInUse(3);
        write(log, 0);
        write(log, 1);
        write(log, 2);
        write(log, 0); // 1 is now the least recently used
        write(log, 5);
        assertThat(log.hotExtents()).containsExactly(0, 2, 5);
        // an extent with a write in flight never leaves, however old
        log.begin(2 * EXTENT, 1);
        write(log, 0);
        write(log, 5);
        write(log, 7);
        assertThat(log.hotExtents()).containsExactly(2, 5, 7);
        log.end(2 * EXTENT, 1);
        assertThat(ActivityLog.durableExtents(file())).containsExactly(2, 5, 7);
    }

    @Test
    void aWriterWaitsWhenEverySlotIsBusy() throws Exception {
        ActivityLog log = openInUse(2);
        log.begin(0, 1);
        log.begin(EXTENT, 1);
        CompletableFuture<Void> third = CompletableFuture.runAsync(() -> {
            try {
                write(log, 9);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(10, TimeUnit.SECONDS).until(() -> log.waitingWriters() == 1);
        assertThat(third).isNotDone();
        log.end(EXTENT, 1);
        third.get(10, TimeUnit.SECONDS);
        assertThat(log.hotExtents()).containsExactly(0, 9);
        log.end(0, 1);
    }

    @Test
    void anInterruptedWaiterHoldsNothing() throws Exception {
        ActivityLog log = openInUse(1);
        log.begin(0, 1);
        List<Throwable> failure = new ArrayList<>();
        Thread waiter = new Thread(() -> {
            try {
                log.begin(5 * EXTENT, 1);
            } catch (Throwable e) {
                failure.add(e);
            }
        });
        waiter.start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> log.waitingWriters() == 1);
        waiter.interrupt();
        waiter.join(10_000);
        assertThat(failure).singleElement().isInstanceOf(InterruptedIOException.class);
        log.end(0, 1);
        write(log, 5);
        assertThat(log.hotExtents()).containsExactly(5);
    }

    @Test
    void recoveryAfterAnUncleanStopListsExactlyTheHotExtents() throws IOException {
        ActivityLog log = openInUse(3);
        write(log, 1);
        write(log, 2);
        write(log, 3);
        write(log, 64); // the partial last extent
        log.begin(2 * EXTENT, 7); // in flight at the crash
        // crash: nothing more happens to this instance; the next start opens the file again
        ActivityLog reopened = ActivityLog.open(file(), VOLUME, EXTENT, 3);
        assertThat(reopened.openedAfterUncleanStop()).isTrue();
        assertThat(reopened.recoveredExtents().toArray()).containsExactly(2, 3, 64);
        assertThat(reopened.recoveredRanges()).containsExactly(
                new long[] {2 * EXTENT, EXTENT}, new long[] {3 * EXTENT, EXTENT}, new long[] {64 * EXTENT, 12345});
        // opening changes nothing: a second crash before the engine saved its bitmaps recovers the same
        assertThat(ActivityLog.open(file(), VOLUME, EXTENT, 3).recoveredExtents().toArray()).containsExactly(2, 3, 64);
        // a different extent size later still covers the same bytes
        assertThat(ActivityLog.open(file(), VOLUME, 2 * EXTENT, 3).recoveredExtents().toArray()).containsExactly(1, 32);
    }

    @Test
    void aCleanStopRecoversNothing() throws IOException {
        ActivityLog log = openInUse(3);
        write(log, 1);
        log.begin(0, 1);
        assertThatThrownBy(log::markClean).isInstanceOf(IllegalStateException.class);
        log.end(0, 1);
        log.markClean();
        assertThatThrownBy(() -> log.begin(0, 1)).isInstanceOf(IllegalStateException.class);
        ActivityLog reopened = ActivityLog.open(file(), VOLUME, EXTENT, 3);
        assertThat(reopened.openedAfterUncleanStop()).isFalse();
        assertThat(reopened.recoveredRanges()).isEmpty();
        assertThat(ActivityLog.open(directory.resolve("never-written"), VOLUME).recoveredRanges()).isEmpty();
    }

    @Test
    void misuseIsRefused() throws IOException {
        ActivityLog log = openInUse(2);
        assertThatThrownBy(() -> log.end(0, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> log.begin(0, 3 * EXTENT)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> log.begin(VOLUME - 1, 2)).isInstanceOf(IllegalArgumentException.class);
        log.begin(VOLUME, 0); // an empty range touches nothing
        log.end(VOLUME, 0);
        assertThat(log.hotExtents()).isEmpty();
    }

    @Test
    void aDamagedFileIsReportedWithItsName() throws IOException {
        Files.write(file(), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> ActivityLog.open(file(), VOLUME)).isInstanceOf(IOException.class)
                .hasMessageContaining(file().toString());
        ActivityLog log = ActivityLog.open(directory.resolve("ok.log"), VOLUME, EXTENT, 2);
        log.markInUse();
        write(log, 1);
        byte[] bytes = Files.readAllBytes(directory.resolve("ok.log"));
        bytes[bytes.length - 9] ^= 1; // flip a bit of the extent list
        Files.write(file(), bytes);
        assertThatThrownBy(() -> ActivityLog.open(file(), VOLUME)).hasMessageContaining("checksum");
    }

    @Test
    void concurrentWritersNeverRunOutsideADurableExtent() throws Exception {
        ActivityLog log = openInUse(4);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                SplittableRandom random = new SplittableRandom(t);
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 300; i++) {
                        long offset = random.nextLong(16 * EXTENT);
                        long length = 1 + random.nextLong(EXTENT);
                        log.begin(offset, length);
                        try {
                            long[] durable = ActivityLog.durableExtents(file());
                            for (long extent = offset / EXTENT; extent <= (offset + length - 1) / EXTENT; extent++) {
                                assertThat(durable).contains(extent);
                            }
                        } finally {
                            log.end(offset, length);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(log.hotExtents().length).isLessThanOrEqualTo(4);
        assertThat(log.waitingWriters()).isZero();
        log.markClean();
        assertThat(ActivityLog.open(file(), VOLUME, EXTENT, 4).recoveredRanges()).isEmpty();
    }
}
