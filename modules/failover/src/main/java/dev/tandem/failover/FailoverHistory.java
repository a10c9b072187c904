package dev.tandem.failover;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.Volume;
import dev.tandem.store.NodeStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The failover history, read off the committed versions every node keeps: each change of a volume's
 * primary or epoch is a decision, with who made it, when, and the reasoning in its comment.
 */
final class FailoverHistory {
    private static final int SCAN = 2000;

    private FailoverHistory() {}

    record Decision(ConfigVersion version, String volume, long epoch, String from, String to) {}

    /** Oldest first. */
    static List<Decision> decisions(NodeStore store) {
        List<ConfigVersion> versions = new ArrayList<>(store.history(SCAN));
        java.util.Collections.reverse(versions);
        List<Decision> out = new ArrayList<>();
        ConfigVersion previous = null;
        for (ConfigVersion v : versions) {
            for (Volume volume : v.config().volumes()) {
                Optional<Volume> before = previous == null ? Optional.empty() : previous.config().volume(volume.name());
                if (before.isEmpty()) {
                    out.add(new Decision(v, volume.name(), volume.epoch(), "-", volume.effectivePrimary()));
                } else if (before.get().epoch() != volume.epoch().longValue()
                        || !before.get().effectivePrimary().equals(volume.effectivePrimary())) {
                    out.add(new Decision(v, volume.name(), volume.epoch(), before.get().effectivePrimary(), volume.effectivePrimary()));
                }
            }
            previous = v;
        }
        return out;
    }

    /** The version that started {@code epoch} of a volume, if the local history still has it. */
    static Optional<ConfigVersion> epochStart(NodeStore store, String volume, long epoch) {
        List<Decision> all = decisions(store);
        for (int i = all.size() - 1; i >= 0; i--) {
            Decision d = all.get(i);
            if (d.volume().equals(volume) && d.epoch() == epoch) return Optional.of(d.version());
        }
        return Optional.empty();
    }
}
