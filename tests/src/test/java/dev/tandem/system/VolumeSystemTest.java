package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A replicated volume on a real three-node cluster (processes on loopback addresses), used through
 * its NBD export by qemu-io and qemu-img: data written on the primary survives the primary's crash
 * and reads back on the secondary it fails over to; the returning node resyncs only what changed;
 * a planned switchover moves the primary back with nothing lost; online verify finds the replicas
 * identical; the admin shell shows the volume, the failover and its history.
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VolumeSystemTest {
    private static final int FIRST_PORT = 29700;
    private static final int NBD_PORT = 10809;
    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final Pattern RESYNCED = Pattern.compile("a1 is in sync: resynced (\\d+) blocks");

    private static Path work;
    private static Loopback hosts;
    private static TandemSites cluster;
    private static Path adminKey;
    private static Path knownHosts;
    private static Path image;

    @RegisterExtension
    static final TestWatcher LOGS = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) System.err.println("\n=== " + context.getDisplayName() + " failed; node logs:" + cluster.logTails());
        }
    };

    @BeforeAll
    static void startCluster() throws Exception {
        List<String> missing = List.of("qemu-io", "qemu-img", "ssh", "ssh-keygen").stream().filter(t -> !TestFiles.onPath(t)).toList();
        assumeTrue(missing.isEmpty(), "skipped: the volume system test needs qemu-io and qemu-img (apt-get install qemu-utils) "
                + "and the OpenSSH client; missing: " + missing);
        work = TandemSites.ROOT.resolve("tests/target/system-volume");
        TestFiles.deleteRecursively(work);
        Files.createDirectories(work);
        adminKey = work.resolve("admin_key");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin", "-f", adminKey.toString()));
        hosts = new Loopback(54, List.of("site-a", "site-b", "site-c"));
        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("a1", "site-a");
        nodes.put("b1", "site-b");
        nodes.put("w1", "site-c");
        cluster = new TandemSites(hosts, work, nodes, FIRST_PORT, """
                volumes:
                  - name: db
                    size_mib: 64
                    replicas: [{name: a1}, {name: b1}]
                """, adminKey.resolveSibling("admin_key.pub"));
        cluster.startAll();
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> cluster.nodes().stream().allMatch(n -> {
            var status = cluster.status(n);
            return Files.exists(cluster.hostKey(n)) && status != null && status.path("applied_version").asLong() >= 1;
        }));
        StringBuilder known = new StringBuilder();
        for (String n : cluster.nodes()) {
            known.append("[").append(cluster.address(n)).append("]:").append(TandemSites.sshPort(FIRST_PORT)).append(' ')
                    .append(Files.readString(cluster.hostKey(n)).trim()).append('\n');
        }
        knownHosts = Files.writeString(work.resolve("known_hosts"), known);
        byte[] data = new byte[8 << 20];
        new Random(42).nextBytes(data);
        image = Files.write(work.resolve("image.raw"), data);
    }

    @AfterAll
    static void stopEverything() {
        if (cluster != null) cluster.close();
        if (hosts != null) hosts.close();
    }

    @Test
    @Order(1)
    void thePrimaryExportsTheVolumeAndTheSecondaryFollows() throws Exception {
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() ->
                assertThat(ssh("a1", "show volumes").out()).containsPattern("b1: in sync"));
        assertThat(qemuImg("info", nbd("a1")).out()).contains("virtual size: 64 MiB");
        ProcessRun.Result wrote = qemuIo(nbd("a1"), "write -P 0x5a 0 4M", "flush");
        assertThat(wrote.exit()).as(wrote.err()).isZero();
        // a whole image in, several requests in flight, and out again byte for byte
        run(List.of("qemu-img", "convert", "-n", "-W", "-m", "8", "-f", "raw", "-O", "raw", image.toString(),
                "json:{\"driver\":\"raw\",\"offset\":16777216,\"size\":8388608,\"file\":{\"driver\":\"nbd\",\"host\":\""
                        + cluster.address("a1") + "\",\"port\":\"" + NBD_PORT + "\",\"export\":\"db\"}}"));
        assertThat(qemuIo(nbd("a1"), "read -P 0x5a 0 4M").out()).contains("read 4194304/4194304");
        // the secondary exports nothing: only the primary accepts writes
        assertThat(qemuIo(nbd("b1"), "read 0 4k").exit()).isNotZero();
        String show = ssh("a1", "show volumes").out();
        assertThat(show).containsPattern("db\\s+a1\\s+site-a\\s+primary \\(epoch 1\\)\\s+primary");
        assertThat(ssh("a1", "volume verify db").out()).contains("b1: 16384 blocks compared, all identical");
    }

    @Test
    @Order(2)
    void whenThePrimaryDiesTheSecondaryTakesOverWithTheData() throws Exception {
        long killed = System.nanoTime();
        cluster.kill("a1");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                qemuIo(nbd("b1"), "read -P 0x5a 0 4M").out().contains("read 4194304/4194304"));
        long failoverMs = (System.nanoTime() - killed) / 1_000_000;
        record("volume: a1 killed; b1 served its data over NBD " + failoverMs + " ms later (dead_after 3s, lease 2s)");
        assertThat(readBack("b1")).isEqualTo(Files.readAllBytes(image));
        assertThat(qemuIo(nbd("b1"), "write -P 0x77 32M 256k", "flush").exit()).isZero();
        String history = ssh("b1", "show failover history").out();
        assertThat(history).contains("a1 -> b1").contains("failover@").contains("a1 unreachable");
    }

    @Test
    @Order(3)
    void theOldPrimaryReturnsAsASecondaryAndResyncsOnlyWhatChanged() throws Exception {
        cluster.start("a1");
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() ->
                assertThat(ssh("b1", "show volumes").out()).containsPattern("a1: in sync"));
        Matcher m = RESYNCED.matcher(Files.readString(cluster.log("b1")));
        assertThat(m.find()).as("b1's log names the resync to a1").isTrue();
        long blocks = Long.parseLong(m.group(1));
        record("volume: the returning a1 got " + blocks + " of 16384 blocks (b1's 64 changed ones and the extents a1's "
                + "activity log had open when it was killed)");
        // b1's 64 changed blocks, plus the extents a1 was writing when it crashed (its activity log)
        assertThat(blocks).isGreaterThanOrEqualTo(64).isLessThan(16384 / 2);
        assertThat(ssh("b1", "volume verify db").out()).contains("a1: 16384 blocks compared, all identical");
    }

    @Test
    @Order(4)
    void aSwitchoverMovesThePrimaryBackWithNothingLost() throws Exception {
        ProcessRun.Result r = ssh("b1", "failover switchover db to a1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("a1 is primary under epoch 3");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                qemuIo(nbd("a1"), "read -P 0x77 32M 256k").out().contains("read 262144/262144"));
        assertThat(readBack("a1")).isEqualTo(Files.readAllBytes(image));
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() ->
                assertThat(ssh("a1", "show volumes").out()).containsPattern("b1: in sync"));
        assertThat(ssh("a1", "show failover history").out()).contains("b1 -> a1").contains("switchover");
        // a refused switchover names what is wrong
        assertThat(ssh("a1", "failover switchover db to w1").out() + ssh("a1", "failover switchover db to w1").err())
                .contains("w1 holds no replica of db");
    }

    private static void record(String line) throws IOException {
        System.out.println("VolumeSystemTest: " + line);
        Files.writeString(work.resolve("failover.txt"), line + "\n", java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }

    private static byte[] readBack(String node) throws Exception {
        Path out = work.resolve("readback-" + node + ".raw");
        Files.deleteIfExists(out);
        run(List.of("qemu-img", "convert", "-f", "raw", "-O", "raw",
                "json:{\"driver\":\"raw\",\"offset\":16777216,\"size\":8388608,\"file\":{\"driver\":\"nbd\",\"host\":\""
                        + cluster.address(node) + "\",\"port\":\"" + NBD_PORT + "\",\"export\":\"db\"}}", out.toString()));
        return Files.readAllBytes(out);
    }

    private static String nbd(String node) {
        return "nbd://" + cluster.address(node) + ":" + NBD_PORT + "/db";
    }

    private static ProcessRun.Result qemuIo(String target, String... commands) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) cmd.addAll(List.of("-c", c));
        cmd.add(target);
        return ProcessRun.run(cmd, Duration.ofSeconds(60));
    }

    private static ProcessRun.Result qemuImg(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img"));
        cmd.addAll(List.of(args));
        return ProcessRun.run(cmd, Duration.ofSeconds(60));
    }

    private static ProcessRun.Result ssh(String node, String command) throws IOException {
        return ProcessRun.run(List.of("ssh", "-i", adminKey.toString(), "-p", String.valueOf(TandemSites.sshPort(FIRST_PORT)),
                "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "admin@" + cluster.address(node), command), Duration.ofSeconds(60));
    }

    private static void run(List<String> command) throws IOException {
        ProcessRun.Result r = ProcessRun.run(command, Duration.ofSeconds(60));
        if (r.exit() != 0) throw new IOException(String.join(" ", command) + " exited " + r.exit() + ": " + r.err());
    }
}
