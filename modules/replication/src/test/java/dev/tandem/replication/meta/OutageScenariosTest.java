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

import org.junit.jupiter.api.Test;

/**
 * Every outage ordering of a two-replica volume (and the three-replica ones that need a third), run
 * through the call protocol by {@link VolumeSim}. The model checks on every resync that the blocks
 * the decision copied really make both sides equal; these tests check that the decision has the
 * right direction and kind, and that acknowledged writes survive.
 */
class OutageScenariosTest {

    /** a is primary, b in sync, a few writes replicated. */
    private static VolumeSim twoInSync() {
        VolumeSim sim = new VolumeSim(42, "a", "b");
        assertThat(sim.connect("a", "b")).isEqualTo(BOTH_JUST_CREATED);
        sim.initialPrimary("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_FULL);
        for (int i = 0; i < 5; i++) {
            sim.write("a");
        }
        assertConverged(sim, "a", "b");
        return sim;
    }

    private static void assertConverged(VolumeSim sim, String... names) {
        for (String name : names) {
            assertThat(sim.data(name)).as("data of " + name).isEqualTo(sim.data(names[0]));
            assertThat(sim.ids(name).current()).as("generation of " + name).isEqualTo(sim.ids(names[0]).current());
        }
    }

    @Test
    void initialSyncIsAFullSyncFromTheFirstPrimary() {
        VolumeSim sim = new VolumeSim(1, "a", "b");
        assertThat(sim.connect("b", "a")).isEqualTo(BOTH_JUST_CREATED);
        sim.initialPrimary("a");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_FULL);
        assertThat(sim.ids("b").current()).isEqualTo(sim.ids("a").current());
        assertThat(sim.ids("a").bitmapByPeer()).isEmpty();
        // connected and in sync: writing needs no new generation
        long generation = sim.ids("a").current();
        sim.write("a");
        assertThat(sim.ids("a").current()).isEqualTo(generation);
    }

    @Test
    void secondaryDisconnectsPrimaryKeepsWritingThenBitmapResync() {
        VolumeSim sim = twoInSync();
        long before = sim.ids("a").current();
        sim.cut("a", "b");
        assertThat(sim.ids("a").bitmapFor("b")).isEqualTo(before);
        assertThat(sim.ids("a").current()).as("no new generation until a write").isEqualTo(before);
        sim.write("a");
        assertThat(sim.ids("a").current()).isNotEqualTo(before);
        sim.write("a");
        sim.write("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b");
        assertThat(sim.ids("a").bitmapByPeer()).isEmpty();
    }

    @Test
    void idlePrimaryLosingTheSecondaryNeedsNoResync() {
        VolumeSim sim = twoInSync();
        sim.cut("a", "b");
        assertThat(sim.connect("b", "a")).isEqualTo(NONE);
        assertThat(sim.ids("a").bitmapByPeer()).isEmpty();
        assertThat(sim.ids("b").bitmapByPeer()).isEmpty();
    }

    @Test
    void primaryCrashFailoverToBThenAReturnsAsBitmapTarget() {
        VolumeSim sim = twoInSync();
        sim.crashDuringWrite("a"); // a wrote a block nobody acknowledged
        sim.promote("b");
        int acknowledged = sim.write("b");
        String value = sim.data("b").get(acknowledged);
        sim.restart("a");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b");
        assertThat(sim.data("a")).containsEntry(acknowledged, value);
    }

    @Test
    void failoverThenFailback() {
        VolumeSim sim = twoInSync();
        sim.crash("a");
        sim.promote("b");
        sim.write("b");
        sim.restart("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_TARGET_BITMAP);
        // planned switchover back while connected: no generation change, no resync
        GenerationIds beforeSwitch = sim.ids("a");
        sim.demote("b");
        sim.promote("a");
        assertThat(sim.ids("a")).isEqualTo(beforeSwitch);
        sim.write("a");
        assertConverged(sim, "a", "b");
        // and the roles keep working: b drops out, a writes, b comes back
        sim.crash("b");
        sim.write("a");
        sim.restart("b");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void failbackWhileTheOtherIsDownAgain() {
        VolumeSim sim = twoInSync();
        sim.crash("a");
        sim.promote("b");
        sim.write("b");
        sim.restart("a");
        sim.connect("a", "b");
        // now b crashes and a takes over again
        sim.crash("b");
        sim.promote("a");
        sim.write("a");
        sim.restart("b");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void secondaryCrashAndReturn() {
        VolumeSim sim = twoInSync();
        sim.crash("b");
        sim.write("a");
        sim.write("a");
        sim.restart("b");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void secondaryCrashWhilePrimaryIdle() {
        VolumeSim sim = twoInSync();
        sim.crash("b");
        sim.restart("b");
        assertThat(sim.connect("a", "b")).isEqualTo(NONE);
    }

    @Test
    void bothCrashTheCrashedPrimaryResyncsItsActivityLog() {
        VolumeSim sim = twoInSync();
        sim.crashDuringWrite("a");
        sim.crash("b");
        sim.restart("b");
        sim.restart("a");
        // same generation, but a's unacknowledged block may differ: a is the bitmap source
        assertThat(sim.ids("a").current()).isEqualTo(sim.ids("b").current());
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b");
        assertThat(sim.replica("a").crashedPrimary).isFalse();
    }

    @Test
    void bothCrashOnlyTheSecondaryReturnsAndTakesOver() {
        VolumeSim sim = twoInSync();
        sim.crashDuringWrite("a");
        sim.crash("b");
        sim.restart("b");
        sim.promote("b");
        sim.write("b");
        sim.restart("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void crashedPrimaryRestartsAsPrimaryBeforeThePeerReturns() {
        VolumeSim sim = twoInSync();
        sim.crashDuringWrite("a");
        sim.crash("b");
        sim.restart("a");
        sim.promote("a");
        sim.write("a");
        sim.restart("b");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void splitBrainBothWriteIsDivergedNeverASilentSync() {
        VolumeSim sim = twoInSync();
        sim.cut("a", "b");
        sim.promote("b"); // b believes a is gone; a is still primary
        String fromA = sim.data("a").get(sim.write("a"));
        sim.write("b");
        assertThat(sim.connect("a", "b")).isEqualTo(DIVERGED);
        assertThat(sim.connect("b", "a")).isEqualTo(DIVERGED);
        assertThat(sim.linked("a", "b")).isFalse();
        // the operator keeps b's data; a is demoted and resynced in full
        sim.demote("a");
        sim.discardData("a", "b");
        assertConverged(sim, "a", "b");
        assertThat(sim.data("a")).doesNotContainValue(fromA);
    }

    @Test
    void splitBrainWhereOnlyTheNewPrimaryWroteIsABitmapResync() {
        VolumeSim sim = twoInSync();
        sim.cut("a", "b");
        sim.promote("b");
        sim.write("b");
        sim.demote("a"); // the fenced old primary never wrote
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void promotionWhileTheOldPrimaryWritesIsDivergedEvenIfTheNewOneDidNotWrite() {
        // conservative by design: the promotion itself starts a generation (see GenerationIds)
        VolumeSim sim = twoInSync();
        sim.cut("a", "b");
        sim.promote("b");
        sim.write("a");
        assertThat(sim.connect("a", "b")).isEqualTo(DIVERGED);
    }

    @Test
    void wipedReplicaRejoinsWithAFullSync() {
        VolumeSim sim = twoInSync();
        sim.crash("b");
        sim.wipe("b");
        sim.write("a");
        sim.restart("b");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_FULL);
        assertConverged(sim, "a", "b");
    }

    @Test
    void lostBitmapFallsBackToAFullSyncThroughHistory() {
        VolumeSim sim = twoInSync();
        long generationOfB = sim.ids("b").current();
        sim.crash("b");
        sim.write("a");
        sim.write("a");
        sim.loseBitmap("a", "b");
        assertThat(sim.ids("a").history()).contains(generationOfB);
        sim.restart("b");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_FULL);
        assertConverged(sim, "a", "b");
    }

    @Test
    void manyGenerationsWhileOneReplicaStaysDownTheBitmapIdStillRelatesThem() {
        VolumeSim sim = twoInSync();
        long generationOfA = sim.ids("a").current();
        sim.crash("a");
        // b is promoted, crashes, comes back, is promoted again... more times than history holds
        for (int i = 0; i < GenerationIds.HISTORY_DEPTH + 2; i++) {
            sim.promote("b");
            sim.write("b");
            sim.crash("b");
            sim.restart("b");
        }
        assertThat(sim.ids("b").history()).hasSize(GenerationIds.HISTORY_DEPTH).doesNotContain(generationOfA);
        assertThat(sim.ids("b").bitmapFor("a")).isEqualTo(generationOfA);
        sim.restart("a");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b");
    }

    @Test
    void manyGenerationsAndTheBitmapLostIsUnrelated() {
        // the documented limit: with neither bitmap nor history relating them, nothing can be decided
        VolumeSim sim = twoInSync();
        sim.crash("a");
        for (int i = 0; i < GenerationIds.HISTORY_DEPTH + 1; i++) {
            sim.promote("b");
            sim.write("b");
            sim.crash("b");
            sim.restart("b");
        }
        sim.loseBitmap("b", "a");
        sim.restart("a");
        assertThat(sim.connect("b", "a")).isEqualTo(UNRELATED);
    }

    @Test
    void separatelyCreatedVolumesAreUnrelated() {
        VolumeSim sim = new VolumeSim(7, "a", "b");
        sim.initialPrimary("a");
        sim.write("a");
        sim.initialPrimary("b");
        sim.write("b");
        assertThat(sim.connect("a", "b")).isEqualTo(UNRELATED);
    }

    // --- three replicas ---

    /** a is primary, b and c in sync. */
    private static VolumeSim threeInSync() {
        VolumeSim sim = new VolumeSim(3, "a", "b", "c");
        sim.initialPrimary("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_SOURCE_FULL);
        assertThat(sim.connect("a", "c")).isEqualTo(BECOME_SOURCE_FULL);
        assertThat(sim.connect("b", "c")).isEqualTo(NONE);
        sim.write("a");
        assertConverged(sim, "a", "b", "c");
        return sim;
    }

    @Test
    void twoConsecutiveFailoversWhileOneReplicaStaysDown() {
        VolumeSim sim = threeInSync();
        long generationOfC = sim.ids("c").current();
        sim.crash("c");
        sim.write("a"); // new generation; b follows it and tracks c as well
        assertThat(sim.ids("b").bitmapFor("c")).isEqualTo(generationOfC);
        sim.crash("a");
        sim.promote("b"); // first failover
        sim.write("b");
        sim.restart("a");
        assertThat(sim.connect("a", "b")).isEqualTo(BECOME_TARGET_BITMAP);
        sim.crash("b");
        sim.promote("a"); // second failover
        sim.write("a");
        // c has been down through both: a still relates c to its old generation
        assertThat(sim.ids("a").bitmapFor("c")).isEqualTo(generationOfC);
        sim.restart("c");
        assertThat(sim.connect("c", "a")).isEqualTo(BECOME_TARGET_BITMAP);
        sim.restart("b");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_TARGET_BITMAP);
        assertConverged(sim, "a", "b", "c");
    }

    @Test
    void failoverWithAThirdReplicaThatMissedTheLastWrites() {
        VolumeSim sim = threeInSync();
        sim.cut("a", "c");
        sim.cut("b", "c");
        sim.write("a");
        sim.write("a");
        sim.crashDuringWrite("a");
        sim.promote("b");
        sim.write("b");
        assertThat(sim.connect("b", "c")).isEqualTo(BECOME_SOURCE_BITMAP);
        sim.restart("a");
        assertThat(sim.connect("b", "a")).isEqualTo(BECOME_SOURCE_BITMAP);
        assertConverged(sim, "a", "b", "c");
    }
}
