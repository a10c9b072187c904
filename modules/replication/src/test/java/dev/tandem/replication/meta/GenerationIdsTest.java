package dev.tandem.replication.meta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import org.junit.jupiter.api.Test;

class GenerationIdsTest {
    private final SplittableRandom random = new SplittableRandom(11);

    /** Returns the given values in order, then fails. */
    private static RandomGenerator scripted(long... values) {
        Deque<Long> queue = new ArrayDeque<>();
        Arrays.stream(values).forEach(queue::add);
        return () -> {
            if (queue.isEmpty()) {
                throw new AssertionError("random exhausted");
            }
            return queue.removeFirst();
        };
    }

    @Test
    void justCreatedHasNoDataAndNothingTracked() {
        GenerationIds ids = GenerationIds.justCreated();
        assertThat(ids.current()).isEqualTo(GenerationIds.JUST_CREATED);
        assertThat(ids.isJustCreated()).isTrue();
        assertThat(ids.bitmapByPeer()).isEmpty();
        assertThat(ids.history()).isEmpty();
        assertThat(ids.startTracking("b")).isSameAs(ids);
    }

    @Test
    void newIdsAreNeverZeroJustCreatedOrAlreadyKnown() {
        GenerationIds ids = GenerationIds.initialPrimary(scripted(0, GenerationIds.JUST_CREATED, 100));
        assertThat(ids.current()).isEqualTo(100);
        assertThat(ids.history()).as("JUST_CREATED is not a generation worth remembering").isEmpty();
        GenerationIds next = ids.startTracking("b").newGeneration(scripted(100, 0, 200));
        assertThat(next.current()).isEqualTo(200);
        assertThat(next.history()).containsExactly(100L);
        assertThat(next.bitmapFor("b")).isEqualTo(100);
    }

    @Test
    void historyKeepsTheNewestFour() {
        GenerationIds ids = GenerationIds.initialPrimary(scripted(10));
        for (long id = 20; id <= 70; id += 10) {
            ids = ids.newGeneration(scripted(id));
        }
        assertThat(ids.current()).isEqualTo(70);
        assertThat(ids.history()).containsExactly(60L, 50L, 40L, 30L);
    }

    @Test
    void startTrackingKeepsAnExistingBitmapId() {
        GenerationIds ids = GenerationIds.initialPrimary(scripted(10)).startTracking("b");
        GenerationIds later = ids.newGeneration(scripted(20)).startTracking("b");
        assertThat(later.bitmapFor("b")).isEqualTo(10);
        assertThat(later.bitmapFor("c")).isZero();
    }

    @Test
    void aNewGenerationIsNeededOnlyWhileATrackedPeerSharesTheCurrentOne() {
        GenerationIds ids = GenerationIds.initialPrimary(scripted(10));
        assertThat(ids.needsNewGeneration()).isFalse();
        assertThat(ids.beforeWrite(scripted())).isSameAs(ids);
        GenerationIds tracking = ids.startTracking("b");
        assertThat(tracking.needsNewGeneration()).isTrue();
        GenerationIds written = tracking.beforeWrite(scripted(20));
        assertThat(written.current()).isEqualTo(20);
        assertThat(written.needsNewGeneration()).isFalse();
        assertThat(written.beforeWrite(scripted())).isSameAs(written);
    }

    @Test
    void promotionStartsAGenerationOnlyWhenAPeerIsAbsent() {
        GenerationIds ids = GenerationIds.initialPrimary(scripted(10));
        assertThat(ids.promote(List.of(), scripted())).isSameAs(ids);
        GenerationIds promoted = ids.promote(List.of("a", "c"), scripted(20));
        assertThat(promoted.current()).isEqualTo(20);
        assertThat(promoted.bitmapByPeer()).isEqualTo(Map.of("a", 10L, "c", 10L));
        // even when the absent peer was tracked already, the promotion starts a generation
        assertThat(promoted.promote(List.of("a"), scripted(30)).current()).isEqualTo(30);
        assertThatThrownBy(() -> GenerationIds.justCreated().promote(List.of("a"), random))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onlyACrashedPrimaryStartsAGenerationBeforeBeingAResyncSource() {
        GenerationIds ids = new GenerationIds(10, Map.of("c", 5L), List.of(5L));
        assertThat(ids.beforeResyncAsSource(false, List.of("b", "c"), scripted())).isSameAs(ids);
        GenerationIds recovering = ids.beforeResyncAsSource(true, List.of("b", "c"), scripted(20));
        assertThat(recovering.current()).isEqualTo(20);
        assertThat(recovering.bitmapByPeer()).as("c keeps its older id").isEqualTo(Map.of("b", 10L, "c", 5L));
        assertThat(recovering.history()).containsExactly(10L, 5L);
    }

    @Test
    void followingThePrimaryPushesTheOldGeneration() {
        GenerationIds secondary = new GenerationIds(10, Map.of("c", 10L), List.of());
        GenerationIds followed = secondary.followGeneration(20);
        assertThat(followed.current()).isEqualTo(20);
        assertThat(followed.history()).containsExactly(10L);
        assertThat(followed.bitmapFor("c")).isEqualTo(10);
        assertThat(followed.followGeneration(20)).isSameAs(followed);
    }

    @Test
    void syncFinishedOnBothSides() {
        GenerationIds source = new GenerationIds(30, Map.of("b", 10L, "c", 20L), List.of(20L, 10L));
        GenerationIds target = new GenerationIds(10, Map.of("a", 10L, "c", 5L), List.of(5L));
        GenerationIds sourceAfter = source.syncFinishedAsSource("b");
        assertThat(sourceAfter.bitmapByPeer()).isEqualTo(Map.of("c", 20L));
        assertThat(sourceAfter.history()).containsExactly(20L, 10L);
        GenerationIds targetAfter = target.syncFinishedAsTarget("a", sourceAfter);
        assertThat(targetAfter.current()).isEqualTo(30);
        assertThat(targetAfter.history()).containsExactly(20L, 10L);
        assertThat(targetAfter.bitmapByPeer()).isEqualTo(Map.of("c", 5L));
    }

    @Test
    void peerInSyncRemembersAForgottenBitmapIdAsTheOldestHistory() {
        GenerationIds ids = new GenerationIds(50, Map.of("b", 7L), List.of(40L, 30L));
        GenerationIds inSync = ids.peerInSync("b");
        assertThat(inSync.bitmapByPeer()).isEmpty();
        assertThat(inSync.history()).containsExactly(40L, 30L, 7L);
        assertThat(inSync.peerInSync("b")).isSameAs(inSync);
    }

    @Test
    void constructorNormalises() {
        GenerationIds ids = new GenerationIds(9, Map.of("b", 0L, "c", GenerationIds.JUST_CREATED, "d", 3L),
                Arrays.asList(9L, 0L, 8L, 8L, GenerationIds.JUST_CREATED, 7L, 6L, 5L, null));
        assertThat(ids.bitmapByPeer()).isEqualTo(Map.of("d", 3L));
        assertThat(ids.history()).containsExactly(8L, 7L, 6L, 5L);
        assertThatThrownBy(() -> new GenerationIds(0, Map.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
        GenerationIds fromNulls = new GenerationIds(9, null, null);
        assertThat(fromNulls.bitmapByPeer()).isEmpty();
        assertThat(fromNulls.history()).isEmpty();
    }

    @Test
    void jsonRoundTrip() throws Exception {
        ObjectMapper json = new ObjectMapper();
        GenerationIds ids = new GenerationIds(0x8000_0000_0000_0001L, Map.of("b1", -5L, "a1", 77L), List.of(Long.MAX_VALUE, 12L));
        String text = json.writeValueAsString(ids);
        assertThat(text).doesNotContain("justCreated").contains("\"a1\":77");
        assertThat(text.indexOf("a1")).as("peers sorted").isLessThan(text.indexOf("b1"));
        assertThat(json.readValue(text, GenerationIds.class)).isEqualTo(ids);
    }
}
