package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three sites in network namespaces, about 30 ms apart, one real node each. Cutting the raft leader's
 * site off must yield a new leader among the other two within seconds, commits must go on there and
 * be refused on the cut-off side, and healing must merge the cut-off node back and catch it up.
 */
@Tag("system")
class ControlPlaneSystemTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);
    /** Generous: on a loaded 2-core machine a partition may first split the survivors too, and MERGE3 rejoins them. */
    private static final Duration FAILOVER = Duration.ofSeconds(60);
    private static final Duration STABLE = Duration.ofSeconds(5);

    @Test
    void cuttingTheLeadersSiteElectsANewLeaderAndHealingMergesItBack() throws Exception {
        assumeTrue(NetLab.unavailableReason().isEmpty(), () -> "skipped: " + NetLab.unavailableReason().orElseThrow());
        Path work = TandemSites.ROOT.resolve("tests/target/system-control-plane");
        TestFiles.deleteRecursively(work);
        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("a1", "a");
        nodes.put("b1", "b");
        nodes.put("w1", "c");
        try (NetLab lab = NetLab.create("tdmcp", List.of("a", "b", "c"), Duration.ofMillis(15), Duration.ofMillis(2));
                TandemSites cluster = new TandemSites(lab, work, nodes)) {
            try {
                run(cluster, lab, work);
            } catch (Throwable t) {
                throw new AssertionError(t.getMessage() + "\nnode logs:" + cluster.logTails(), t);
            }
        }
    }

    private void run(TandemSites cluster, NetLab lab, Path work) throws Exception {
        cluster.startAll();
        awaitStable(cluster, 1);

        String oldLeader = leader(cluster.status("a1"));
        List<String> others = cluster.nodes().stream().filter(n -> !n.equals(oldLeader)).toList();
        long cutAt = System.nanoTime();
        lab.cutSite(cluster.site(oldLeader));
        await().atMost(FAILOVER).pollInterval(Duration.ofMillis(100)).until(() -> others.stream().allMatch(n -> {
            JsonNode s = cluster.status(n);
            return s != null && s.get("quorum").asBoolean() && leader(s) != null && !leader(s).equals(oldLeader);
        }));
        long failoverMillis = (System.nanoTime() - cutAt) / 1_000_000;
        String newLeader = leader(cluster.status(others.get(0)));
        Files.writeString(work.resolve("failover.txt"), "control plane: leader " + oldLeader + " cut off, " + newLeader
                + " elected after " + failoverMillis + " ms (failure detection timeout 3s, verify 1.5s, RTT ~30 ms)\n");

        // the majority commits; the cut-off side refuses and keeps serving what it had
        String survivor = others.get(0);
        String document = cluster.tandem("config", "show", "--config", cluster.nodeYaml(survivor).toString()).out();
        Path changed = work.resolve("changed.yaml");
        Files.writeString(changed, document.replaceFirst("- name: a\n", "- name: a\n  description: site A\n"));
        TandemSites.Result commit = cluster.tandem("config", "commit", "--config", cluster.nodeYaml(survivor).toString(),
                "--file", changed.toString(), "--comment", "during the partition");
        assertThat(commit.exit()).as(commit.err()).isZero();
        assertThat(commit.out()).contains("committed version 2");

        TandemSites.Result refused = cluster.tandem("config", "commit", "--config", cluster.nodeYaml(oldLeader).toString(),
                "--file", changed.toString());
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("no quorum: no majority: this node reaches [" + oldLeader + "]");
        JsonNode cutOff = cluster.status(oldLeader);
        assertThat(cutOff.get("quorum").asBoolean()).isFalse();
        assertThat(cutOff.get("applied_version").asLong()).isEqualTo(1);

        lab.heal();
        awaitStable(cluster, 2);
        assertThat(cluster.tandem("config", "show", "--config", cluster.nodeYaml(oldLeader).toString()).out())
                .contains("description: site A");
    }

    /** Until every node has been settled on {@code version} for {@link #STABLE} without a break: a freshly formed view is not yet a stable one. */
    private static void awaitStable(TandemSites cluster, long version) {
        long[] since = {0};
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> {
            boolean settled = cluster.nodes().stream().allMatch(n -> settled(cluster.status(n), version));
            if (!settled) since[0] = 0;
            else if (since[0] == 0) since[0] = System.nanoTime();
            return settled && System.nanoTime() - since[0] >= STABLE.toNanos();
        });
    }

    /** The raft leader a node sees; the field is left out when there is none. */
    private static String leader(JsonNode status) {
        JsonNode leader = status == null ? null : status.get("leader");
        return leader == null || leader.isNull() ? null : leader.asText();
    }

    /** A leader, quorum, every member reachable and on {@code version}. */
    private static boolean settled(JsonNode status, long version) {
        if (status == null || leader(status) == null || !status.path("quorum").asBoolean()) return false;
        // path(), not get(): a field left out (no version published yet) reads as missing, not as null
        if (status.path("applied_version").asLong(-1) != version) return false;
        for (JsonNode m : status.path("members")) {
            if (!m.path("reachable").asBoolean() || m.path("applied_version").asLong(-1) != version) return false;
        }
        return true;
    }
}
