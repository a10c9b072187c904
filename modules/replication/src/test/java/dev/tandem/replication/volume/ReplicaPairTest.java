package dev.tandem.replication.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.config.Volume;
import dev.tandem.pki.CertificateAuthority;
import dev.tandem.pki.MutualTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas of one volume in this JVM, on 127.0.0.1 with real TLS between them: writes reach the
 * secondary in order; a disconnect marks the peer outdated before any write is acknowledged without
 * it, and the resync after it moves only the changed blocks; a primary from an older epoch is refused;
 * after a failover the old primary resyncs from the new one; two primaries that both wrote are
 * reported as diverged and neither is overwritten.
 */
class ReplicaPairTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int BLOCK = 4096;
    private static SSLContext tlsA;
    private static SSLContext tlsB;

    @TempDir
    Path dir;

    private final Map<String, Integer> ports = new ConcurrentHashMap<>();
    private final Map<String, ReplicationServer> servers = new ConcurrentHashMap<>();
    private final Map<String, Replica> replicas = new ConcurrentHashMap<>();
    private final FakeDecisions decisions = new FakeDecisions();

    @BeforeAll
    static void certificates() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("test");
        tlsA = MutualTls.context(ca.issue("a1", List.of("127.0.0.1")));
        tlsB = MutualTls.context(ca.issue("b1", List.of("127.0.0.1")));
    }

    @AfterEach
    void close() {
        replicas.values().forEach(Replica::close);
        servers.values().forEach(ReplicationServer::close);
    }

    @Test
    void writesReachTheSecondaryAndVerifyFindsNoDifference() throws Exception {
        Volume v = volume("a1", 1);
        Replica b = open("b1", v);
        Replica a = open("a1", v);
        b.apply(v, 1);
        a.apply(v, 1);
        awaitInSync(a, "b1");
        write(a, 0, pattern(7, 64 * BLOCK));
        write(a, 10 * BLOCK * 16L, pattern(9, 3 * BLOCK));
        a.flush();
        assertThat(read(b, 0, 64 * BLOCK)).isEqualTo(pattern(7, 64 * BLOCK));
        List<Replica.VerifyResult> results = a.verify();
        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.compared()).isEqualTo(v.sizeBytes() / BLOCK);
            assertThat(r.differing()).isEmpty();
        });
        assertThat(decisions.outdated).isEmpty();
    }

    @Test
    void aLostPeerIsMarkedOutdatedAndGetsOnlyTheChangedBlocksBack() throws Exception {
        Volume v = volume("a1", 1);
        Replica b = open("b1", v);
        Replica a = open("a1", v);
        b.apply(v, 1);
        a.apply(v, 1);
        awaitInSync(a, "b1");
        write(a, 0, pattern(1, 256 * BLOCK));

        stopServer("b1");
        await().atMost(WAIT).until(() -> !a.status().peers().get("b1").state().equals("in sync"));
        // acknowledged only once b1 is committed as outdated
        write(a, 100L * BLOCK, pattern(2, 5 * BLOCK));
        write(a, 200L * BLOCK, pattern(3, 2 * BLOCK));
        assertThat(decisions.outdated).contains("b1");
        assertThat(a.status().peers().get("b1").outOfSyncBytes()).isEqualTo(7L * BLOCK);

        startServer("b1");
        awaitInSync(a, "b1");
        assertThat(read(b, 100L * BLOCK, 5 * BLOCK)).isEqualTo(pattern(2, 5 * BLOCK));
        assertThat(read(b, 200L * BLOCK, 2 * BLOCK)).isEqualTo(pattern(3, 2 * BLOCK));
        assertThat(a.links()).singleElement().satisfies(l -> assertThat(l.lastResyncBlocks()).isEqualTo(7));
        await().atMost(WAIT).until(() -> !decisions.outdated.contains("b1"));
        assertThat(a.verify().get(0).differing()).isEmpty();
    }

    @Test
    void aPrimaryFromAnOlderEpochIsRefused() throws Exception {
        Volume v = volume("a1", 1);
        Replica b = open("b1", v);
        b.apply(volume("a1", 3), 3); // b1 has seen epoch 3
        Replica a = open("a1", v);
        a.apply(v, 1);
        // told of the newer epoch, the old primary demotes itself
        await().atMost(WAIT).until(() -> a.role() == Replica.Role.SECONDARY);
        assertThat(a.status().problem()).contains("epoch 3");
        assertThat(b.status().primary()).isNull();
        assertThatThrownBy(() -> write(a, 0, pattern(1, BLOCK))).isInstanceOf(IOException.class);
    }

    @Test
    void afterAFailoverTheOldPrimaryResyncsFromTheNewOne() throws Exception {
        Volume v1 = volume("a1", 1);
        Replica b = open("b1", v1);
        Replica a = open("a1", v1);
        b.apply(v1, 1);
        a.apply(v1, 1);
        awaitInSync(a, "b1");
        write(a, 0, pattern(4, 32 * BLOCK));

        // a1's site is gone: b1 is promoted under epoch 2 and writes
        stopServer("a1");
        a.close();
        replicas.remove("a1");
        Volume v2 = v1.withPrimary("b1", 2);
        b.apply(v2, 2);
        write(b, 8L * BLOCK, pattern(5, 4 * BLOCK));
        assertThat(decisions.outdated).contains("a1");

        // a1 comes back under the new config: a secondary that gets only b1's changes
        startServer("a1");
        Replica back = open("a1", v2);
        back.apply(v2, 3);
        awaitInSync(b, "a1");
        assertThat(read(back, 8L * BLOCK, 4 * BLOCK)).isEqualTo(pattern(5, 4 * BLOCK));
        assertThat(read(back, 0, BLOCK)).isEqualTo(java.util.Arrays.copyOf(pattern(4, 32 * BLOCK), BLOCK));
        assertThat(b.links().get(0).lastResyncBlocks()).isEqualTo(4);
        assertThatThrownBy(() -> write(back, 0, pattern(6, BLOCK))).isInstanceOf(IOException.class).hasMessageContaining("not primary");
    }

    @Test
    void twoPrimariesThatBothWroteAreReportedAsDivergedAndNotResynced() throws Exception {
        Volume v1 = volume("a1", 1);
        Replica b = open("b1", v1);
        Replica a = open("a1", v1);
        b.apply(v1, 1);
        a.apply(v1, 1);
        awaitInSync(a, "b1");
        write(a, 0, pattern(1, 4 * BLOCK));
        // the link is cut; a1 goes on writing (b1 marked outdated), and b1 is forced primary and writes too
        stopServer("b1");
        await().atMost(WAIT).until(() -> !a.status().peers().get("b1").state().equals("in sync"));
        write(a, 0, pattern(2, BLOCK));
        Volume forced = v1.withPrimary("b1", 2);
        b.apply(forced, 2);
        write(b, BLOCK, pattern(3, BLOCK));
        // both sides meet again: b1 (epoch 2) tries to stream to a1, which demotes, and the ids say both wrote
        a.apply(forced, 2);
        startServer("b1");
        await().atMost(WAIT).until(() -> b.status().peers().get("a1").state().startsWith("refused"));
        assertThat(b.status().peers().get("a1").state()).contains("split brain");
        assertThat(read(a, 0, BLOCK)).isEqualTo(pattern(2, BLOCK));
    }

    // ---- harness -------------------------------------------------------------------------------------

    private Volume volume(String primary, long epoch) {
        return new Volume("db", 4, BLOCK, Volume.Protocol.C, List.of(new Volume.Replica("a1", null), new Volume.Replica("b1", null)),
                primary, epoch, List.copyOf(decisions.outdated), 1000, null, null, null);
    }

    private Replica open(String node, Volume v) throws IOException {
        if (!servers.containsKey(node)) startServer(node);
        PeerConnector connector = new PeerConnector(node.equals("a1") ? tlsA : tlsB,
                peer -> Optional.of(new InetSocketAddress("127.0.0.1", port(peer))));
        Replica r = Replica.open(node, v, dir.resolve(node), decisions, connector);
        replicas.put(node, r);
        return r;
    }

    private void startServer(String node) throws IOException {
        servers.put(node, ReplicationServer.start(new InetSocketAddress("127.0.0.1", port(node)), node.equals("a1") ? tlsA : tlsB,
                name -> replicas.get(node)));
    }

    private void stopServer(String node) {
        ReplicationServer s = servers.remove(node);
        if (s != null) s.close();
    }

    private int port(String node) {
        return ports.computeIfAbsent(node, n -> {
            try (ServerSocket s = new ServerSocket(0)) {
                return s.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static void awaitInSync(Replica primary, String peer) {
        await().atMost(WAIT).until(() -> "in sync".equals(primary.status().peers().get(peer).state()));
    }

    private static void write(Replica r, long offset, byte[] data) throws IOException {
        r.write(offset, ByteBuffer.wrap(data), false);
    }

    private static byte[] read(Replica r, long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        r.store().read(offset, b);
        return b.array();
    }

    private static byte[] pattern(int seed, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) out[i] = (byte) (seed * 31 + i / BLOCK);
        return out;
    }

    /** Commits decisions at once, like a cluster with quorum whose every commit succeeds. */
    private static final class FakeDecisions implements Decisions {
        final Set<String> outdated = ConcurrentHashMap.newKeySet();
        final List<String> log = new ArrayList<>();

        @Override
        public long markOutdated(String volume, long epoch, Set<String> peers) {
            outdated.addAll(peers);
            log.add("outdated " + peers + " @" + epoch);
            return 1;
        }

        @Override
        public void markUpToDate(String volume, long epoch, String peer) {
            outdated.remove(peer);
            log.add("up to date " + peer + " @" + epoch);
        }
    }
}
