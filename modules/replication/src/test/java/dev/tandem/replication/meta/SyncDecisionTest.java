package dev.tandem.replication.meta;

import static dev.tandem.replication.meta.SyncDecision.BECOME_SOURCE_BITMAP;
import static dev.tandem.replication.meta.SyncDecision.BECOME_SOURCE_FULL;
import static dev.tandem.replication.meta.SyncDecision.BECOME_TARGET_BITMAP;
import static dev.tandem.replication.meta.SyncDecision.BECOME_TARGET_FULL;
import static dev.tandem.replication.meta.SyncDecision.BOTH_JUST_CREATED;
import static dev.tandem.replication.meta.SyncDecision.DIVERGED;
import static dev.tandem.replication.meta.SyncDecision.NONE;
import static dev.tandem.replication.meta.SyncDecision.UNRELATED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class SyncDecisionTest {
    private static final GenerationIds NEW = GenerationIds.justCreated();

    private static GenerationIds ids(long current, Map<String, Long> bitmaps, Long... history) {
        return new GenerationIds(current, bitmaps, List.of(history));
    }

    private static SyncDecision decide(GenerationIds a, GenerationIds b) {
        SyncDecision decision = SyncDecision.decide("a", a, "b", b);
        assertThat(SyncDecision.decide("b", b, "a", a)).isEqualTo(decision.mirror());
        return decision;
    }

    @Test
    void justCreated() {
        assertThat(decide(NEW, NEW)).isEqualTo(BOTH_JUST_CREATED);
        assertThat(decide(NEW, ids(10, Map.of()))).isEqualTo(BECOME_TARGET_FULL);
        assertThat(decide(ids(10, Map.of("b", 10L)), NEW)).isEqualTo(BECOME_SOURCE_FULL);
    }

    @Test
    void sameGeneration() {
        assertThat(decide(ids(10, Map.of("b", 10L)), ids(10, Map.of()))).isEqualTo(NONE);
        GenerationIds a = ids(10, Map.of());
        GenerationIds b = ids(10, Map.of());
        assertThat(SyncDecision.decide("a", a, true, "b", b, false)).isEqualTo(BECOME_SOURCE_BITMAP);
        assertThat(SyncDecision.decide("a", a, false, "b", b, true)).isEqualTo(BECOME_TARGET_BITMAP);
        assertThat(SyncDecision.decide("a", a, true, "b", b, true)).isEqualTo(DIVERGED);
    }

    @Test
    void bitmapRules() {
        assertThat(decide(ids(20, Map.of("b", 10L), 10L), ids(10, Map.of()))).isEqualTo(BECOME_SOURCE_BITMAP);
        assertThat(decide(ids(10, Map.of()), ids(20, Map.of("a", 10L), 10L))).isEqualTo(BECOME_TARGET_BITMAP);
        // each tracking the other from the other's current cannot happen: refuse
        assertThat(decide(ids(20, Map.of("b", 30L)), ids(30, Map.of("a", 20L)))).isEqualTo(DIVERGED);
    }

    @Test
    void historyRules() {
        assertThat(decide(ids(30, Map.of(), 20L, 10L), ids(10, Map.of()))).isEqualTo(BECOME_SOURCE_FULL);
        assertThat(decide(ids(10, Map.of()), ids(30, Map.of(), 20L, 10L))).isEqualTo(BECOME_TARGET_FULL);
        // a bitmap id kept for a third replica also proves descent
        assertThat(decide(ids(30, Map.of("c", 10L)), ids(10, Map.of()))).isEqualTo(BECOME_SOURCE_FULL);
    }

    @Test
    void divergence() {
        // both started tracking each other from generation 10, then both wrote
        assertThat(decide(ids(20, Map.of("b", 10L), 10L), ids(30, Map.of("a", 10L), 10L))).isEqualTo(DIVERGED);
        // only the histories meet
        assertThat(decide(ids(20, Map.of(), 15L, 10L), ids(30, Map.of(), 25L, 10L))).isEqualTo(DIVERGED);
        // one's bitmap id is in the other's history
        assertThat(decide(ids(20, Map.of("c", 10L)), ids(30, Map.of(), 10L))).isEqualTo(DIVERGED);
    }

    @Test
    void unrelated() {
        assertThat(decide(ids(20, Map.of(), 15L), ids(30, Map.of(), 25L))).isEqualTo(UNRELATED);
        assertThat(decide(ids(20, Map.of()), ids(30, Map.of()))).isEqualTo(UNRELATED);
    }

    @Test
    void mirrorIsAnInvolution() {
        for (SyncDecision decision : SyncDecision.values()) {
            assertThat(decision.mirror().mirror()).isEqualTo(decision);
            assertThat(decision.mirror().isSource()).isEqualTo(decision.isTarget());
        }
    }

    /**
     * Over many generated states, drawn from a small pool of ids so that every rule fires, the two
     * sides always reach mirror decisions.
     */
    @Test
    void decisionsAreAlwaysMirrored() {
        SplittableRandom random = new SplittableRandom(2024);
        long[] pool = {GenerationIds.JUST_CREATED, 1, 2, 3, 5, 6, 7};
        String[] nodes = {"a", "b", "c"};
        Map<SyncDecision, Integer> seen = new EnumMap<>(SyncDecision.class);
        for (int i = 0; i < 200_000; i++) {
            GenerationIds a = randomIds(random, pool, nodes);
            GenerationIds b = randomIds(random, pool, nodes);
            boolean aCrashed = random.nextInt(4) == 0;
            boolean bCrashed = random.nextInt(4) == 0;
            SyncDecision ab = SyncDecision.decide("a", a, aCrashed, "b", b, bCrashed);
            SyncDecision ba = SyncDecision.decide("b", b, bCrashed, "a", a, aCrashed);
            if (ba != ab.mirror()) {
                throw new AssertionError("a=" + a + " crashed=" + aCrashed + ", b=" + b + " crashed=" + bCrashed
                        + ": " + ab + " vs " + ba);
            }
            seen.merge(ab, 1, Integer::sum);
        }
        assertThat(seen).as("every decision occurs").containsOnlyKeys(SyncDecision.values());
    }

    private static GenerationIds randomIds(SplittableRandom random, long[] pool, String[] nodes) {
        Map<String, Long> bitmaps = new TreeMap<>();
        for (String node : nodes) {
            if (random.nextBoolean()) {
                bitmaps.put(node, pool[random.nextInt(pool.length)]);
            }
        }
        List<Long> history = new ArrayList<>();
        for (int n = random.nextInt(4); n > 0; n--) {
            history.add(pool[random.nextInt(pool.length)]);
        }
        return new GenerationIds(pool[random.nextInt(pool.length)], bitmaps, history);
    }
}
