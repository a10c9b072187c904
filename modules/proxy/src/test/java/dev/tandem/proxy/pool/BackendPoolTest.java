package dev.tandem.proxy.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyPool;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendPoolTest {
    private static final ProxyPool.Check CHECK = new ProxyPool.Check(null, null, null, null, null, 1, 1);
    private static final ProxyPool.Passive PASSIVE = new ProxyPool.Passive(2, Duration.ofSeconds(30));

    @Test
    void theOwnSiteIsPreferredAndOtherSitesFollowInPreferenceOrder() {
        ProxyPool config = pool(ProxyPool.Balance.LEAST_REQUESTS, member("a1", "site-a", 1), member("b1", "site-b", 1), member("c1", "site-c", 1));
        BackendPool atB = build(config, "site-b", List.of("site-c"));
        assertThat(atB.pick(null).name()).isEqualTo("b1");
        down(atB, "b1");
        assertThat(atB.pick(null).name()).as("site-c is preferred next").isEqualTo("c1");
        down(atB, "c1");
        assertThat(atB.pick(null).name()).isEqualTo("a1");
        down(atB, "a1");
        assertThat(atB.pick(null)).as("nothing usable").isNull();
    }

    @Test
    void leastRequestsSpreadsEvenlyAndHonoursWeight() {
        BackendPool pool = build(pool(ProxyPool.Balance.LEAST_REQUESTS, member("x", "site-a", 1), member("y", "site-a", 3)), "site-a", List.of());
        Map<String, Integer> held = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            Backend b = pool.pick(null);
            b.state().acquire(); // requests stay in flight: the pick must follow the load
            held.merge(b.name(), 1, Integer::sum);
        }
        assertThat(held).containsEntry("x", 10).containsEntry("y", 30);
    }

    @Test
    void idleMembersShareRequestsInTurn() {
        BackendPool pool = build(pool(ProxyPool.Balance.LEAST_REQUESTS, member("x", "site-a", 1), member("y", "site-a", 1)), "site-a", List.of());
        Map<String, Integer> picked = new HashMap<>();
        for (int i = 0; i < 10; i++) picked.merge(pool.pick(null).name(), 1, Integer::sum);
        assertThat(picked).containsEntry("x", 5).containsEntry("y", 5);
    }

    @Test
    void roundRobinGivesEachItsWeightInTurns() {
        BackendPool pool = build(pool(ProxyPool.Balance.ROUND_ROBIN, member("x", "site-a", 2), member("y", "site-a", 1)), "site-a", List.of());
        Map<String, Integer> picked = new HashMap<>();
        for (int i = 0; i < 30; i++) picked.merge(pool.pick(null).name(), 1, Integer::sum);
        assertThat(picked).containsEntry("x", 20).containsEntry("y", 10);
    }

    @Test
    void theExcludedMemberIsNeverPicked() {
        BackendPool pool = build(pool(ProxyPool.Balance.LEAST_REQUESTS, member("x", "site-a", 1), member("y", "site-b", 1)), "site-a", List.of());
        Backend x = pool.pick(null);
        assertThat(x.name()).isEqualTo("x");
        assertThat(pool.pick(x).name()).as("a retry goes to the other site rather than repeat the failed member").isEqualTo("y");
    }

    @Test
    void aDrainedMemberTakesNoNewRequests() {
        BackendPool pool = build(pool(ProxyPool.Balance.LEAST_REQUESTS, member("x", "site-a", 1).withDrained(true), member("y", "site-a", 1)), "site-a", List.of());
        for (int i = 0; i < 5; i++) assertThat(pool.pick(null).name()).isEqualTo("y");
    }

    @Test
    void consecutivePassiveFailuresEjectAMemberAndASuccessResetsTheCount() {
        BackendPool pool = build(pool(ProxyPool.Balance.LEAST_REQUESTS, member("x", "site-a", 1), member("y", "site-b", 1)), "site-a", List.of());
        BackendState x = find(pool, "x").state();
        x.passiveFailure("HTTP 502", PASSIVE);
        x.passiveSuccess();
        x.passiveFailure("HTTP 502", PASSIVE);
        assertThat(pool.pick(null).name()).as("not two in a row").isEqualTo("x");
        x.passiveFailure("connection refused", PASSIVE);
        assertThat(x.isEjected()).isTrue();
        assertThat(x.describe()).startsWith("ejected: 2 failures in a row");
        assertThat(pool.pick(null).name()).isEqualTo("y");
    }

    @Test
    void stateSurvivesAConfigChangeThatKeepsTheAddress() {
        Pools pools = new Pools();
        ProxyPool first = pool(ProxyPool.Balance.LEAST_REQUESTS, new ProxyPool.Member("x", "10.0.0.1:80", "site-a", 1, false));
        Backend x = pools.build(config(first), List.of("site-a"), m -> true).get("www").members().get(0);
        x.state().acquire();
        ProxyPool reweighted = pool(ProxyPool.Balance.LEAST_REQUESTS, new ProxyPool.Member("x", "10.0.0.1:80", "site-a", 5, true));
        Backend again = pools.build(config(reweighted), List.of("site-a"), m -> true).get("www").members().get(0);
        assertThat(again.state()).isSameAs(x.state());
        assertThat(again.state().inFlight()).isEqualTo(1);
        ProxyPool moved = pool(ProxyPool.Balance.LEAST_REQUESTS, new ProxyPool.Member("x", "10.0.0.9:80", "site-a", 1, false));
        assertThat(pools.build(config(moved), List.of("site-a"), m -> true).get("www").members().get(0).state()).isNotSameAs(x.state());
    }

    @Test
    void siteOrderIsOwnThenPreferenceThenTheRest() {
        assertThat(Pools.siteOrder("b", List.of("c", "b"), List.of("a", "b", "c", "d"))).containsExactly("b", "c", "a", "d");
    }

    private static void down(BackendPool pool, String name) {
        find(pool, name).state().recordCheck("connection refused", CHECK);
    }

    private static Backend find(BackendPool pool, String name) {
        return pool.members().stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
    }

    private static BackendPool build(ProxyPool pool, String ownSite, List<String> preference) {
        return new Pools().build(config(pool), Pools.siteOrder(ownSite, preference, List.of("site-a", "site-b", "site-c")), m -> true).get("www");
    }

    private static ProxyConfig config(ProxyPool pool) {
        return new ProxyConfig(null, null, null, null, null, null, null, List.of(pool), null);
    }

    private static ProxyPool pool(ProxyPool.Balance balance, ProxyPool.Member... members) {
        return new ProxyPool("www", balance, List.of(members), CHECK, PASSIVE);
    }

    private static int port = 8000;

    private static ProxyPool.Member member(String name, String site, int weight) {
        return new ProxyPool.Member(name, "127.0.0.1:" + port++, site, weight, false);
    }
}
