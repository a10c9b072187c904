package dev.tandem.replication.nbd;

import static dev.tandem.replication.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile and vanishing clients: afterwards the server must still serve, and every thread it
 * started for them must be gone.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NbdRobustnessTest {
    private static final int SIZE = 4 << 20;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private final MemoryExport disk = new MemoryExport("disk", SIZE);
    private long baseline;
    private NbdServer server;

    @BeforeEach
    void start() {
        baseline = NbdThreads.count();
        server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), TestExports.of(disk));
    }

    @AfterEach
    void stop() {
        server.close();
        assertThat(NbdThreads.count()).as("nbd- threads after close").isEqualTo(baseline);
    }

    @Test
    void garbageInsteadOfAHandshake() throws Exception {
        byte[] garbage = new byte[4096];
        new Random(1).nextBytes(garbage);
        try (NbdTestClient client = NbdTestClient.connect(server.address())) {
            client.out.write(garbage);
            client.out.flush();
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServingWithoutLeftovers();
    }

    @Test
    void badRequestMagic() throws Exception {
        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            client.out.writeInt(0xdeadbeef);
            client.out.write(new byte[24]);
            client.out.flush();
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServingWithoutLeftovers();
    }

    @Test
    void hugeWriteLength() throws Exception {
        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            client.sendRequest(0, CMD_WRITE, 1, 0, 0xffff_ffffL);
            client.out.write(new byte[65536]);
            client.out.flush();
            assertThat(client.closedByServer()).isTrue();
        }
        assertStillServingWithoutLeftovers();
    }

    @Test
    void clientVanishesMidPayload() throws Exception {
        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            client.sendRequest(0, CMD_WRITE, 1, 0, 1 << 20);
            client.out.write(new byte[1000]);
            client.out.flush();
        }
        await().atMost(PATIENCE).until(() -> server.connectionCount() == 0);
        assertThat(disk.calls()).as("the torn write must not reach the export").isEmpty();
        assertStillServingWithoutLeftovers();
    }

    @Test
    void clientVanishesWithRequestsInFlight() throws Exception {
        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            for (int handle = 0; handle < 32; handle++) {
                client.sendRequest(0, CMD_READ, handle, 0, 1 << 20);
            }
            client.socket.setSoLinger(true, 0); // reset, not a polite close
        }
        assertStillServingWithoutLeftovers();
    }

    @Test
    void manyConnectionsOpenedAndDropped() throws Exception {
        List<Socket> dropped = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            switch (i % 4) {
                case 0 -> dropped.add(connectOnly());
                case 1 -> dropped.add(greeted().socket);
                case 2 -> dropped.add(NbdTestClient.open(server.address(), "disk").socket);
                default -> {
                    NbdTestClient client = NbdTestClient.open(server.address(), "disk");
                    client.sendRequest(0, CMD_READ, 1, 0, 65536);
                    dropped.add(client.socket);
                }
            }
        }
        await().atMost(PATIENCE).until(() -> server.connectionCount() == dropped.size());
        for (Socket socket : dropped) {
            socket.close();
        }
        assertStillServingWithoutLeftovers();
    }

    @Test
    void closeEndsClientsInEveryStateAndAllThreads() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        disk.hook((operation, offset) -> {
            if (operation.equals("write")) {
                try {
                    never.await(); // a replicated write whose peer never answers
                } catch (InterruptedException e) {
                    throw new InterruptedIOException("interrupted");
                }
            }
        });
        Socket silent = connectOnly();
        NbdTestClient negotiating = greeted();
        NbdTestClient idle = NbdTestClient.open(server.address(), "disk");
        NbdTestClient stuck = NbdTestClient.open(server.address(), "disk");
        stuck.write(1, 0, new byte[4096]);
        await().atMost(PATIENCE).until(() -> server.connectionCount() == 4);
        await().atMost(PATIENCE).until(() -> NbdThreads.count() > baseline + 4); // the stuck write's worker

        server.close();

        assertThat(NbdThreads.count()).isEqualTo(baseline);
        assertThat(negotiating.closedByServer()).isTrue();
        assertThat(idle.closedByServer()).isTrue();
        assertThat(stuck.closedByServer()).isTrue();
        silent.close();
        negotiating.close();
        idle.close();
        stuck.close();
    }

    @Test
    void closeIsIdempotentAndFreesThePort() throws IOException {
        InetSocketAddress address = server.address();
        server.close();
        server.close();

        server = NbdServer.start(address, TestExports.of(disk));
        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            client.sendRequest(0, CMD_FLUSH, 1, 0, 0);
            assertThat(client.readReply().error()).isZero();
        }
    }

    /** The server answers a new client properly (qemu-io too, if installed) and holds no stale connections. */
    private void assertStillServingWithoutLeftovers() throws Exception {
        await().atMost(PATIENCE).until(() -> server.connectionCount() == 0);
        await().atMost(PATIENCE).until(() -> NbdThreads.count() == baseline + 1); // just the acceptor

        try (NbdTestClient client = NbdTestClient.open(server.address(), "disk")) {
            client.write(1, 0, new byte[] {1, 2, 3});
            assertThat(client.readReply().error()).isZero();
            client.sendRequest(0, CMD_DISC, 2, 0, 0);
            assertThat(client.closedByServer()).isTrue();
        }
        if (Qemu.available()) {
            Qemu.Result result = Qemu.io(Qemu.url(server, "disk"), "write -P 0x61 0 64k", "read -P 0x61 0 64k");
            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output()).doesNotContain("Pattern verification failed");
        }
        await().atMost(PATIENCE).until(() -> NbdThreads.count() == baseline + 1);
    }

    private Socket connectOnly() throws IOException {
        Socket socket = new Socket();
        socket.connect(server.address(), 10_000);
        return socket;
    }

    private NbdTestClient greeted() throws IOException {
        NbdTestClient client = NbdTestClient.connect(server.address());
        client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        return client;
    }
}
