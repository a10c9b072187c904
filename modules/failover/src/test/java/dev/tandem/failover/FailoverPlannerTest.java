package dev.tandem.failover;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.config.Volume;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FailoverPlannerTest {
    private static final Volume DB = new Volume("db", 64, null, null,
            List.of(new Volume.Replica("a1", null), new Volume.Replica("b1", null), new Volume.Replica("c1", null)),
            "a1", 3L, null, null, null, null, null);

    @Test
    void theFirstReachableUpToDateReplicaIsChosen() {
        var choice = FailoverPlanner.choose(DB, members("b1", "c1"), reports("b1", "up-to-date", "c1", "up-to-date"));
        assertThat(choice.node()).contains("b1");
        assertThat(choice.reasoning()).isEqualTo("b1: up to date and reachable");
    }

    @Test
    void anOutdatedUnreachableOrInconsistentReplicaIsNeverChosen() {
        Volume outdated = DB.withOutdated(List.of("b1"));
        var choice = FailoverPlanner.choose(outdated, members("b1"), reports("b1", "up-to-date", "c1", "up-to-date"));
        assertThat(choice.node()).isEmpty();
        assertThat(choice.reasoning()).isEqualTo("b1: outdated (the primary wrote on without it); c1: unreachable");

        choice = FailoverPlanner.choose(DB, members("b1", "c1"), reports("b1", "inconsistent", "c1", "up-to-date"));
        assertThat(choice.node()).contains("c1");
        assertThat(choice.reasoning()).startsWith("b1: its disk is inconsistent; c1: up to date");
    }

    @Test
    void aReplicaThatHasNotReportedIsNotTrusted() {
        var choice = FailoverPlanner.choose(DB, members("b1"), Map.of());
        assertThat(choice.node()).isEmpty();
        assertThat(choice.reasoning()).startsWith("b1: has not reported its replica");
    }

    private static Membership members(String... reachable) {
        List<String> up = List.of(reachable);
        return new Membership(List.of("a1", "b1", "c1", "w1").stream()
                .map(n -> new Member(n, "site-" + n.charAt(0), "services", up.contains(n) || n.equals("w1"))).toList(), "w1", true);
    }

    private static Map<String, NodeObservations> reports(String... nodeAndDisk) {
        Map<String, NodeObservations> out = new HashMap<>();
        for (int i = 0; i < nodeAndDisk.length; i += 2) {
            out.put(nodeAndDisk[i], new NodeObservations(nodeAndDisk[i],
                    Map.of("volume.db", "{\"role\":\"secondary\",\"disk\":\"" + nodeAndDisk[i + 1] + "\"}"), Instant.now(), false));
        }
        return out;
    }
}
