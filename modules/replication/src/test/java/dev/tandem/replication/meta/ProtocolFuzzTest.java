package dev.tandem.replication.meta;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Random outage sequences on a three-replica volume, following the call protocol. {@link VolumeSim}
 * fails if a handshake ever says NONE while the data differ, or a bitmap resync leaves a
 * difference — i.e. if the generation ids ever let two replicas silently disagree. The sequences
 * respect only what the cluster layer guarantees: a replica connected to a primary is not promoted,
 * a primary never becomes a resync target, and a secondary is a resync source only while no primary
 * runs. Split brains are allowed (a partitioned replica may be promoted) and must be detected.
 */
class ProtocolFuzzTest {
    private static final String[] NODES = {"a", "b", "c"};

    @Test
    void generationIdsNeverLetReplicasSilentlyDisagree() {
        Map<SyncDecision, Integer> decisions = new EnumMap<>(SyncDecision.class);
        long seeds = Long.getLong("fuzz.seeds", 1000);
        for (long seed = 0; seed < seeds; seed++) {
            run(seed, 300, decisions);
        }
        assertThat(decisions).containsKeys(SyncDecision.NONE, SyncDecision.BECOME_SOURCE_BITMAP,
                SyncDecision.BECOME_TARGET_BITMAP, SyncDecision.DIVERGED);
        assertThat(decisions.getOrDefault(SyncDecision.BECOME_SOURCE_BITMAP, 0)
                + decisions.getOrDefault(SyncDecision.BECOME_TARGET_BITMAP, 0))
                .as("bitmap resyncs exercised").isGreaterThan(1000);
    }

    private static void run(long seed, int steps, Map<SyncDecision, Integer> decisions) {
        VolumeSim sim = new VolumeSim(seed, NODES);
        SplittableRandom random = new SplittableRandom(seed * 31 + 7);
        sim.initialPrimary("a");
        sim.connect("a", "b");
        sim.connect("a", "c");
        for (int i = 0; i < steps; i++) {
            step(sim, random, decisions);
            sim.checkLinkedReplicasAgree();
        }
    }

    private static void step(VolumeSim sim, SplittableRandom random, Map<SyncDecision, Integer> decisions) {
        String x = NODES[random.nextInt(NODES.length)];
        String y = NODES[random.nextInt(NODES.length)];
        VolumeSim.Replica rx = sim.replica(x);
        VolumeSim.Replica ry = sim.replica(y);
        switch (random.nextInt(10)) {
            case 0, 1, 2 -> {
                if (rx.up && rx.primary) {
                    sim.write(x);
                }
            }
            case 3 -> {
                if (rx.up && rx.primary && random.nextInt(3) == 0) {
                    sim.crashDuringWrite(x);
                } else if (rx.up && random.nextBoolean()) {
                    sim.crash(x);
                } else if (rx.up) {
                    sim.stop(x);
                }
            }
            case 4 -> {
                if (!rx.up) {
                    sim.restart(x);
                }
            }
            case 5 -> {
                if (!x.equals(y) && sim.linked(x, y)) {
                    sim.cut(x, y);
                }
            }
            case 6, 7 -> {
                if (!x.equals(y) && rx.up && ry.up && !sim.linked(x, y)) {
                    handshake(sim, random, x, y, decisions);
                }
            }
            case 8 -> {
                if (rx.up && !rx.primary && !rx.ids.isJustCreated() && !connectedToPrimary(sim, x)) {
                    sim.promote(x);
                }
            }
            default -> {
                if (rx.up && rx.primary && random.nextInt(3) == 0) {
                    sim.demote(x);
                }
            }
        }
    }

    private static void handshake(VolumeSim sim, SplittableRandom random, String x, String y,
                                  Map<SyncDecision, Integer> decisions) {
        SyncDecision decision = sim.decision(x, y);
        decisions.merge(decision, 1, Integer::sum);
        if (decision == SyncDecision.BOTH_JUST_CREATED) {
            return;
        }
        if (decision == SyncDecision.DIVERGED || decision == SyncDecision.UNRELATED) {
            // an operator keeps one side (if that one may act as source) and discards the other
            String survivor = random.nextBoolean() ? x : y;
            String victim = survivor.equals(x) ? y : x;
            if (maySource(sim, survivor) && !sim.replica(victim).primary && random.nextInt(3) == 0) {
                sim.discardData(victim, survivor);
            }
            return;
        }
        if (decision != SyncDecision.NONE) {
            String source = decision.isSource() ? x : y;
            String target = decision.isSource() ? y : x;
            if (!maySource(sim, source) || sim.replica(target).primary) {
                return;
            }
        }
        sim.connect(x, y);
    }

    /** The primary, or anyone while no primary runs. */
    private static boolean maySource(VolumeSim sim, String name) {
        if (sim.replica(name).primary) {
            return true;
        }
        return sim.names().stream().map(sim::replica).noneMatch(replica -> replica.up && replica.primary);
    }

    private static boolean connectedToPrimary(VolumeSim sim, String name) {
        List<String> primaries = new ArrayList<>();
        for (String other : sim.names()) {
            if (!other.equals(name) && sim.replica(other).primary && sim.linked(name, other)) {
                primaries.add(other);
            }
        }
        return !primaries.isEmpty();
    }
}
