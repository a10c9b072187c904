package dev.tandem.dns.health;

import static dev.tandem.dns.DemoZone.address;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.cluster.NodeObservations;
import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsPool.Member;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which addresses a pool answers with, from every node's votes on its members. */
class PoolAnswersTest {
    private static final Member A1 = new Member("a1", "192.0.2.1", "site-a", 1, null);
    private static final Member A2 = new Member("a2", "192.0.2.2", "site-a", 1, null);
    private static final Member B1 = new Member("b1", "198.51.100.1", "site-b", 2, null);
    private static final Member C1 = new Member("c1", "203.0.113.1", "site-c", 3, null);

    @Test
    void aMemberIsUpWhenAtLeastHalfOfTheReportingNodesSeeItUp() {
        DnsPool pool = pool(DnsPool.WhenAllDown.TOP_TIER, A1);

        assertThat(up(pool, votes("n1", "a1", "up", "n2", "a1", "up", "n3", "a1", "down: refused"))).isTrue();
        assertThat(up(pool, votes("n1", "a1", "down: refused", "n2", "a1", "down: timeout", "n3", "a1", "up"))).isFalse();
        // a tie is up: one site's broken uplink must not take a member out for everybody
        assertThat(up(pool, votes("n1", "a1", "up", "n2", "a1", "down: timeout"))).isTrue();
    }

    @Test
    void withNoReportsAMemberIsUp() {
        DnsPool pool = pool(DnsPool.WhenAllDown.TOP_TIER, A1);
        assertThat(up(pool, Map.of())).isTrue();
        // a node that reports on other things only has no vote on this member
        assertThat(up(pool, Map.of("n1", observations("n1", false, Map.of("dns.pool.other.x", "down: refused"))))).isTrue();
    }

    @Test
    void aStaleNodesVoteDoesNotCount() {
        DnsPool pool = pool(DnsPool.WhenAllDown.TOP_TIER, A1);
        Map<String, NodeObservations> observations = new HashMap<>();
        observations.put("n1", observations("n1", false, Map.of(key(A1), "up")));
        observations.put("n2", observations("n2", true, Map.of(key(A1), "down: refused")));
        observations.put("n3", observations("n3", true, Map.of(key(A1), "down: refused")));

        PoolAnswers.MemberView view = PoolAnswers.views(pool, observations).get(0);
        assertThat(view.up()).isTrue();
        assertThat(view.votes()).containsExactly(Map.entry("n1", "up"));

        // and when only stale nodes have spoken, it is as if nobody had
        observations.remove("n1");
        assertThat(up(pool, observations)).isTrue();
    }

    @Test
    void theBestTierWithAMemberUpAnswers() {
        DnsPool pool = pool(DnsPool.WhenAllDown.TOP_TIER, B1, A1, A2, C1);

        assertThat(answer(pool, Map.of())).as("everything up: the first tier, in configured order")
                .containsExactly(address("192.0.2.1"), address("192.0.2.2"));
        assertThat(answer(pool, votes("n1", "a1", "down: x"))).containsExactly(address("192.0.2.2"));
        assertThat(answer(pool, votes("n1", "a1", "down: x", "n1", "a2", "down: x"))).containsExactly(address("198.51.100.1"));
        assertThat(answer(pool, votes("n1", "a1", "down: x", "n1", "a2", "down: x", "n1", "b1", "down: x")))
                .containsExactly(address("203.0.113.1"));
    }

    @Test
    void whenAllAreDownThePolicyDecides() {
        Map<String, NodeObservations> allDown = votes("n1", "a1", "down: x", "n1", "a2", "down: x", "n1", "b1", "down: x");

        assertThat(answer(pool(DnsPool.WhenAllDown.TOP_TIER, A1, A2, B1), allDown))
                .containsExactly(address("192.0.2.1"), address("192.0.2.2"));
        assertThat(answer(pool(DnsPool.WhenAllDown.ALL, A1, A2, B1), allDown))
                .containsExactly(address("192.0.2.1"), address("192.0.2.2"), address("198.51.100.1"));
        assertThat(answer(pool(DnsPool.WhenAllDown.NONE, A1, A2, B1), allDown)).isEmpty();
        assertThat(answer(pool(DnsPool.WhenAllDown.TOP_TIER), Map.of())).as("no members at all").isEmpty();
    }

    @Test
    void aWeightZeroMemberIsAStandbyWithinItsTier() {
        Member standby = new Member("a3", "192.0.2.3", "site-a", 1, 0);
        DnsPool pool = pool(DnsPool.WhenAllDown.TOP_TIER, A1, standby, B1);

        assertThat(answer(pool, Map.of())).containsExactly(address("192.0.2.1"));
        // the only one up in the best tier: it answers, before the next tier does
        assertThat(answer(pool, votes("n1", "a1", "down: x"))).containsExactly(address("192.0.2.3"));
        // and with everything down, the top tier answers whole
        assertThat(answer(pool, votes("n1", "a1", "down: x", "n1", "a3", "down: x", "n1", "b1", "down: x")))
                .containsExactly(address("192.0.2.1"), address("192.0.2.3"));
    }

    @Test
    void theSameAddressIsAnsweredOnce() {
        Member twin = new Member("twin", "192.0.2.1", "site-b", 1, null);
        assertThat(answer(pool(DnsPool.WhenAllDown.TOP_TIER, A1, twin), Map.of())).containsExactly(address("192.0.2.1"));
    }

    @Test
    void thePreferredTierIsWhatThePoolAnswersWithoutHealthInformation() {
        // zone transfers carry this: it must be what a server that has no votes would answer
        Member standby = new Member("a3", "192.0.2.3", "site-a", 1, 0);
        for (DnsPool pool : List.of(pool(DnsPool.WhenAllDown.TOP_TIER, B1, A1, A2), pool(DnsPool.WhenAllDown.NONE, A1, standby, B1),
                pool(DnsPool.WhenAllDown.ALL, standby), pool(DnsPool.WhenAllDown.ALL))) {
            assertThat(PoolAnswers.preferredTier(pool)).as(pool.members().toString()).isEqualTo(answer(pool, Map.of()));
        }
        assertThat(PoolAnswers.preferredTier(pool(DnsPool.WhenAllDown.TOP_TIER, A1, standby, B1))).containsExactly(address("192.0.2.1"));
    }

    @Test
    void ipv6MembersAnswerToo() {
        Member v6 = new Member("v6", "2001:db8::1", null, 1, null);
        assertThat(answer(pool(DnsPool.WhenAllDown.TOP_TIER, A1, v6), Map.of()))
                .containsExactly(address("192.0.2.1"), address("2001:db8::1"));
    }

    private static DnsPool pool(DnsPool.WhenAllDown policy, Member... members) {
        return new DnsPool("www", Duration.ofSeconds(30), List.of(members), null, policy);
    }

    private static boolean up(DnsPool pool, Map<String, NodeObservations> observations) {
        return PoolAnswers.views(pool, observations).get(0).up();
    }

    private static List<InetAddress> answer(DnsPool pool, Map<String, NodeObservations> observations) {
        return PoolAnswers.answer(pool, PoolAnswers.views(pool, observations));
    }

    private static String key(Member member) {
        return HealthChecker.key("www", member.name());
    }

    /** Votes as (node, member, vote) triples, gathered into each node's observations. */
    private static Map<String, NodeObservations> votes(String... triples) {
        Map<String, Map<String, String>> byNode = new LinkedHashMap<>();
        for (int i = 0; i < triples.length; i += 3) {
            byNode.computeIfAbsent(triples[i], k -> new HashMap<>()).put(HealthChecker.key("www", triples[i + 1]), triples[i + 2]);
        }
        Map<String, NodeObservations> out = new LinkedHashMap<>();
        byNode.forEach((node, values) -> out.put(node, observations(node, false, values)));
        return out;
    }

    private static NodeObservations observations(String node, boolean stale, Map<String, String> values) {
        return new NodeObservations(node, values, Instant.now(), stale);
    }
}
