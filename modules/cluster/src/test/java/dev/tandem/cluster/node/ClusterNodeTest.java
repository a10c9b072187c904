package dev.tandem.cluster.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.Site;
import dev.tandem.pki.CertificateAuthority;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterNodeTest {
    private static final Duration FAILOVER = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private TestCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) cluster.close();
    }

    private TestCluster threeNodes() throws Exception {
        cluster = new TestCluster(dir, 3);
        cluster.startAll();
        awaitVersionEverywhere(1);
        return cluster;
    }

    private void awaitVersionEverywhere(long version) {
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(cluster.running())
                .allSatisfy(n -> assertThat(n.running().version()).isEqualTo(version)));
    }

    /** The running document with one more site: a harmless change that shows which commit won. */
    private static CommitRequest addSite(ClusterConfig base, String site, String author) {
        List<Site> sites = new ArrayList<>(base.sites());
        sites.add(new Site(site, null));
        ClusterConfig next = new ClusterConfig(base.schemaVersion(), base.cluster(), sites, base.nodes(), base.users(),
                base.dns(), base.proxy(), base.vpn(), base.volumes());
        return CommitRequest.of(next, author, "test", "add " + site);
    }

    private String leader() {
        await().atMost(FAILOVER).until(() -> cluster.running().get(0).membership().leader() != null);
        return cluster.running().get(0).membership().leader();
    }

    @Test
    void theFirstLeaderCommitsTheSeedAndACommitOnAnyNodeIsVisibleOnAll() throws Exception {
        threeNodes();
        for (String from : List.of("n1", "n2", "n3")) {
            ClusterNode node = cluster.node(from);
            ConfigVersion v = node.commit(addSite(node.running().config(), "from-" + from, "alice"));
            // a read barrier on any other node returns at least this version, at once
            for (ClusterNode other : cluster.running()) assertThat(other.sync().version()).isGreaterThanOrEqualTo(v.version());
            awaitVersionEverywhere(v.version());
            assertThat(cluster.running()).allSatisfy(n -> assertThat(n.running()).isEqualTo(v));
        }
        assertThat(cluster.store("n2").history(10)).extracting(ConfigVersion::comment)
                .containsExactly("add from-n3", "add from-n2", "add from-n1", "cluster created");
        assertThat(cluster.node("n1").membership().members()).allSatisfy(m -> assertThat(m.reachable()).isTrue());
    }

    @Test
    void anInvalidDocumentIsRefusedEverywhereWithItsPath() throws Exception {
        threeNodes();
        ClusterConfig running = cluster.node("n1").running().config();
        CommitRequest bad = addSite(running, "Not_A_Name", "alice");
        assertThatThrownBy(() -> cluster.node("n2").commit(bad))
                .isInstanceOfSatisfying(CommitException.class, e -> assertThat(e.reason()).isEqualTo(CommitException.Reason.INVALID))
                .hasMessageContaining("sites[3].name: \"Not_A_Name\" is not a valid name");
        assertThat(cluster.running()).allSatisfy(n -> assertThat(n.running().version()).isEqualTo(1));
    }

    @Test
    void aCommitPreparedOnAnOldVersionIsRefused() throws Exception {
        threeNodes();
        ClusterNode n1 = cluster.node("n1");
        n1.commit(addSite(n1.running().config(), "first", "alice"));
        CommitRequest stale = addSite(n1.running().config(), "second", "bob").expecting(1);
        assertThatThrownBy(() -> n1.commit(stale))
                .isInstanceOfSatisfying(CommitException.class, e -> assertThat(e.reason()).isEqualTo(CommitException.Reason.CONFLICT))
                .hasMessageContaining("running is now version 2 (by alice)");
    }

    @Test
    void killingTheLeaderElectsANewOneAndCommitsContinueWithTwoOfThree() throws Exception {
        threeNodes();
        String oldLeader = leader();
        cluster.stop(oldLeader);
        ClusterNode survivor = cluster.running().get(0);
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(survivor.membership().leader())
                .isNotNull().isNotEqualTo(oldLeader));
        ConfigVersion v = survivor.commit(addSite(survivor.running().config(), "after-failover", "alice"));
        assertThat(v.version()).isEqualTo(2);
        awaitVersionEverywhere(2);
    }

    @Test
    void aNodeCutOffFromTheOtherTwoRefusesCommitsAndAppliesNothingThenCatchesUp() throws Exception {
        threeNodes();
        cluster.isolate("n3", true);
        ClusterNode n3 = cluster.node("n3");
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(n3.membership().quorum()).isFalse());
        assertThatThrownBy(() -> n3.commit(addSite(n3.running().config(), "minority", "mallory")))
                .isInstanceOfSatisfying(CommitException.class, e -> assertThat(e.reason()).isEqualTo(CommitException.Reason.NO_QUORUM))
                .hasMessageContaining("no majority: this node reaches [n3] of the voters [n1, n2, n3] and a commit needs 2");

        ClusterNode n1 = cluster.node("n1");
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(n1.membership().reachableNames()).containsExactly("n1", "n2"));
        ConfigVersion majority = n1.commit(addSite(n1.running().config(), "majority", "alice"));
        assertThat(n3.running().version()).isEqualTo(1);

        cluster.isolate("n3", false);
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(n3.running()).isEqualTo(majority));
        assertThat(n3.running().config().site("minority")).isEmpty();
    }

    @Test
    void aRestartedNodeCatchesUpFromItsLogAndTheLeader() throws Exception {
        threeNodes();
        cluster.stop("n2");
        ClusterNode n1 = cluster.node("n1");
        n1.commit(addSite(n1.running().config(), "while-away-1", "alice"));
        ConfigVersion last = n1.commit(addSite(n1.running().config(), "while-away-2", "alice"));

        ClusterNode n2 = cluster.start("n2");
        await().atMost(FAILOVER).untilAsserted(() -> assertThat(n2.running()).isEqualTo(last));
        assertThat(cluster.store("n2").history(10)).extracting(ConfigVersion::version).containsExactly(3L, 2L, 1L);
    }

    @Test
    void concurrentCommitsFromThreeNodesAreAllAppliedInOneOrder() throws Exception {
        threeNodes();
        int perNode = 67; // 201 commits in all
        ExecutorService pool = Executors.newFixedThreadPool(12);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        List<Future<?>> futures = new ArrayList<>();
        for (ClusterNode node : cluster.running()) {
            for (int i = 0; i < perNode; i++) {
                String comment = node.nodeName() + "-" + i;
                futures.add(pool.submit(() -> {
                    node.commit(CommitRequest.of(node.running().config(), "load", "test", comment));
                    acknowledged.add(comment);
                    return null;
                }));
            }
        }
        for (Future<?> f : futures) f.get();
        pool.shutdown();
        assertThat(acknowledged).hasSize(3 * perNode);

        long last = 1 + 3 * perNode;
        awaitVersionEverywhere(last);
        List<String> order = comments(cluster.store("n1").history(1000));
        assertThat(order).hasSize((int) last);
        assertThat(comments(cluster.store("n2").history(1000))).isEqualTo(order);
        assertThat(comments(cluster.store("n3").history(1000))).isEqualTo(order);
        assertThat(order.subList(0, 3 * perNode)).containsExactlyInAnyOrderElementsOf(acknowledged);
    }

    private static List<String> comments(List<ConfigVersion> history) {
        return history.stream().map(ConfigVersion::comment).collect(Collectors.toList());
    }

    @Test
    void aNodeWithACertificateFromAnotherCaCannotJoin() throws Exception {
        cluster = new TestCluster(dir, 3);
        cluster.start("n1");
        cluster.start("n2");
        cluster.start("n3", CertificateAuthority.create("impostor"));
        ClusterNode n1 = cluster.node("n1");
        await().atMost(FAILOVER).until(() -> n1.running().version() == 1);
        Thread.sleep(3000); // give the impostor every chance to join
        assertThat(n1.membership().reachableNames()).containsExactly("n1", "n2");
        ClusterNode impostor = cluster.node("n3");
        assertThat(impostor.membership().reachableNames()).containsExactly("n3");
        assertThat(impostor.running().version()).isZero();
        assertThatThrownBy(() -> impostor.commit(CommitRequest.of(impostor.running().config(), "x", "x", "x")))
                .isInstanceOfSatisfying(CommitException.class, e -> assertThat(e.reason()).isEqualTo(CommitException.Reason.NO_QUORUM));
    }
}
