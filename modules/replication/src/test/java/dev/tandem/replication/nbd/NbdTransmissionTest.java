package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Requests and replies over a raw socket: error mapping, ordering, flushing and the in-flight limit. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NbdTransmissionTest {
    private static final int SIZE = 1 << 20;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final MemoryExport disk = new MemoryExport("disk", SIZE);
    private final CountDownLatch release = new CountDownLatch(1);
    private NbdServer server;

    @BeforeEach
    void start() {
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), TestExports.of(disk));
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.close();
    }

    @Test
    void writtenDataReadsBack() throws IOException {
        byte[] payload = pattern(8192, 0x21);
        try (NbdTestClient client = open()) {
            client.write(1, 4096, payload);
            assertThat(client.readReply()).isEqualTo(ok(1));

            client.sendRequest(0, CMD_READ, 2, 4096, 8192);
            assertThat(client.readReply()).isEqualTo(ok(2));
            assertThat(client.readData(8192)).isEqualTo(payload);
        }
        assertThat(disk.snapshot(4096, 8192)).isEqualTo(payload);
    }

    @Test
    void rangesBeyondTheEndAreEinval() throws IOException {
        try (NbdTestClient client = open()) {
            client.sendRequest(0, CMD_READ, 1, SIZE - 512, 1024);
            client.sendRequest(0, CMD_READ, 2, -1L, 1); // offset 2^64 - 1
            client.sendRequest(0, CMD_TRIM, 3, SIZE, 1);
            client.sendRequest(0, CMD_WRITE_ZEROES, 4, 0, SIZE + 1L);
            client.sendRequest(0, CMD_READ, 5, 0, MAX_BLOCK_SIZE + 1L);

            assertThat(replies(client, 5)).containsExactlyInAnyOrder(
                    einval(1), einval(2), einval(3), einval(4), einval(5));

            // the connection is still good
            client.sendRequest(0, CMD_READ, 6, SIZE - 512, 512);
            assertThat(client.readReply()).isEqualTo(ok(6));
            client.readData(512);
        }
    }

    @Test
    void aWriteBeyondTheEndIsEinvalAndItsPayloadIsConsumed() throws IOException {
        try (NbdTestClient client = open()) {
            client.write(1, SIZE - 100, pattern(200, 0x42));
            assertThat(client.readReply()).isEqualTo(einval(1));

            client.write(2, 0, pattern(100, 0x43));
            assertThat(client.readReply()).isEqualTo(ok(2));
        }
        assertThat(disk.snapshot(SIZE - 100, 100)).containsOnly((byte) 0);
        assertThat(disk.snapshot(0, 100)).containsOnly((byte) 0x43);
    }

    @Test
    void changesToAReadOnlyExportAreEperm() throws IOException {
        disk.readOnly(true);
        try (NbdTestClient client = open()) {
            client.write(1, 0, pattern(4096, 0x55));
            assertThat(client.readReply()).isEqualTo(eperm(1));
            client.sendRequest(0, CMD_TRIM, 2, 0, 4096);
            assertThat(client.readReply()).isEqualTo(eperm(2));
            client.sendRequest(0, CMD_WRITE_ZEROES, 3, 0, 4096);
            assertThat(client.readReply()).isEqualTo(eperm(3));

            client.sendRequest(0, CMD_READ, 4, 0, 4096);
            assertThat(client.readReply()).isEqualTo(ok(4));
            assertThat(client.readData(4096)).containsOnly((byte) 0);
        }
        assertThat(disk.calls()).isEmpty();
    }

    @Test
    void exportFailuresAreEioAndTheConnectionLivesOn() throws IOException {
        disk.hook((operation, offset) -> {
            if (offset == 8192) {
                throw new IOException("disk on fire");
            }
            if (offset == 16384) {
                throw new IllegalStateException("a bug in the export");
            }
        });
        try (NbdTestClient client = open()) {
            client.sendRequest(0, CMD_READ, 1, 8192, 512);
            assertThat(client.readReply()).isEqualTo(new NbdTestClient.Reply(EIO, 1)); // and no data follows
            client.write(2, 16384, pattern(512, 1));
            assertThat(client.readReply()).isEqualTo(new NbdTestClient.Reply(EIO, 2));

            client.sendRequest(0, CMD_READ, 3, 0, 512);
            assertThat(client.readReply()).isEqualTo(ok(3));
            client.readData(512);
        }
    }

    @Test
    void unknownCommandsAreEinval() throws IOException {
        try (NbdTestClient client = open()) {
            client.sendRequest(0, 5, 1, 0, 512);   // NBD_CMD_CACHE, not advertised
            client.sendRequest(0, 7, 2, 0, 512);   // NBD_CMD_BLOCK_STATUS, needs structured replies
            client.sendRequest(0, 999, 3, 0, 0);

            assertThat(replies(client, 3)).containsExactlyInAnyOrder(einval(1), einval(2), einval(3));
        }
    }

    @Test
    void flushFollowsEveryAnsweredWrite() throws IOException {
        try (NbdTestClient client = open()) {
            client.write(1, 0, pattern(4096, 1));
            assertThat(client.readReply()).isEqualTo(ok(1));
            client.sendRequest(CMD_FLAG_FUA, CMD_WRITE, 2, 4096, 4096);
            client.out.write(pattern(4096, 2));
            client.out.flush();
            assertThat(client.readReply()).isEqualTo(ok(2));

            client.sendRequest(0, CMD_FLUSH, 3, 0, 0);
            assertThat(client.readReply()).isEqualTo(ok(3));
        }
        assertThat(disk.calls()).containsExactly("write 0 4096", "write 4096 4096 fua", "flush");
    }

    @Test
    void trimWithFuaIsFlushed() throws IOException {
        try (NbdTestClient client = open()) {
            client.sendRequest(CMD_FLAG_FUA, CMD_TRIM, 1, 0, SIZE);
            assertThat(client.readReply()).isEqualTo(ok(1));
        }
        assertThat(disk.calls()).containsExactly("trim 0 " + SIZE, "flush");
    }

    @Test
    void writeZeroesWritesZeroesInChunksWithFua() throws IOException {
        disk.fill(0, SIZE, (byte) 0xff);
        try (NbdTestClient client = open()) {
            client.sendRequest(CMD_FLAG_FUA, CMD_WRITE_ZEROES, 1, 1, SIZE - 2);
            assertThat(client.readReply()).isEqualTo(ok(1));
        }
        assertThat(disk.snapshot(1, SIZE - 2)).containsOnly((byte) 0);
        assertThat(disk.snapshot(0, 1)).containsOnly((byte) 0xff);
        assertThat(disk.snapshot(SIZE - 1, 1)).containsOnly((byte) 0xff);
        assertThat(disk.calls()).allMatch(call -> call.startsWith("write ") && call.endsWith(" fua"));
    }

    @Test
    void aSlowWriteDoesNotHoldUpLaterRequests() throws IOException {
        disk.hook(blockWritesAt(0));
        try (NbdTestClient client = open()) {
            client.write(1, 0, pattern(4096, 1));
            client.sendRequest(0, CMD_READ, 2, 65536, 4096);

            assertThat(client.readReply()).isEqualTo(ok(2)); // answered while the write still waits
            client.readData(4096);
            release.countDown();
            assertThat(client.readReply()).isEqualTo(ok(1));
        }
    }

    @Test
    void disconnectAnswersInFlightRequestsFirst() throws IOException {
        disk.hook(blockWritesAt(0));
        try (NbdTestClient client = open()) {
            client.write(1, 0, pattern(4096, 7));
            client.sendRequest(0, CMD_DISC, 2, 0, 0);
            // the reader has taken the DISC and now waits for the write
            await().atMost(PATIENCE).until(() -> NbdThreads.reader().map(Thread::getState).orElse(null)
                    == Thread.State.WAITING);

            release.countDown();
            assertThat(client.readReply()).isEqualTo(ok(1));
            assertThat(client.closedByServer()).isTrue();
        }
        assertThat(disk.snapshot(0, 4096)).containsOnly((byte) 7);
    }

    @Test
    void atMostSixteenRequestsAreInFlight() throws IOException {
        AtomicInteger entered = new AtomicInteger();
        disk.hook((operation, offset) -> {
            entered.incrementAndGet();
            awaitRelease();
        });
        try (NbdTestClient client = open()) {
            for (int handle = 1; handle <= 20; handle++) {
                client.write(handle, handle * 4096L, pattern(4096, handle));
            }
            // sixteen are inside the export and the reader is parked waiting for a free slot
            await().atMost(PATIENCE).until(() -> entered.get() == 16
                    && NbdThreads.reader().map(Thread::getState).orElse(null) == Thread.State.WAITING);
            assertThat(entered.get()).isEqualTo(16);

            release.countDown();
            Set<Long> answered = new HashSet<>();
            for (NbdTestClient.Reply reply : replies(client, 20)) {
                assertThat(reply.error()).isZero();
                answered.add(reply.handle());
            }
            assertThat(answered).hasSize(20);
        }
        assertThat(entered.get()).isEqualTo(20);
    }

    private MemoryExport.Hook blockWritesAt(long blockedOffset) {
        return (operation, offset) -> {
            if (operation.equals("write") && offset == blockedOffset) {
                awaitRelease();
            }
        };
    }

    private void awaitRelease() throws InterruptedIOException {
        try {
            release.await();
        } catch (InterruptedException e) {
            throw new InterruptedIOException("interrupted");
        }
    }

    private NbdTestClient open() throws IOException {
        return NbdTestClient.open(server.address(), "disk");
    }

    private static NbdTestClient.Reply[] replies(NbdTestClient client, int count) throws IOException {
        NbdTestClient.Reply[] replies = new NbdTestClient.Reply[count];
        for (int i = 0; i < count; i++) {
            replies[i] = client.readReply();
        }
        return replies;
    }

    private static byte[] pattern(int length, int value) {
        byte[] data = new byte[length];
        Arrays.fill(data, (byte) value);
        return data;
    }

    private static NbdTestClient.Reply ok(long handle) {
        return new NbdTestClient.Reply(0, handle);
    }

    private static NbdTestClient.Reply einval(long handle) {
        return new NbdTestClient.Reply(EINVAL, handle);
    }

    private static NbdTestClient.Reply eperm(long handle) {
        return new NbdTestClient.Reply(EPERM, handle);
    }
}
