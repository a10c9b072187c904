package dev.tandem.cluster;

import dev.tandem.config.Volume;
import java.util.Optional;
import java.util.function.Function;

/**
 * Changes one volume's entry by compare-and-set through raft: read the newest version (a read
 * barrier), derive the change from it, and commit it only if nothing was committed in between. Every
 * safety decision about a volume (a new primary, a replica declared outdated) goes through here, so
 * none is made from a stale view.
 */
public final class VolumeCommits {
    private static final int ATTEMPTS = 5;

    private VolumeCommits() {}

    /**
     * @param change the new entry, or empty when the decision no longer applies to the newest version
     *     (the primary moved on, the replica is already outdated)
     * @return the version committed, or empty if {@code change} declined
     */
    public static Optional<ConfigVersion> update(ClusterService cluster, String volume, Function<Volume, Optional<Volume>> change,
            String author, String comment) throws CommitException {
        CommitException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            ConfigVersion newest = cluster.sync();
            Optional<Volume> current = newest.config().volume(volume);
            if (current.isEmpty()) return Optional.empty();
            Optional<Volume> next = change.apply(current.get());
            if (next.isEmpty()) return Optional.empty();
            try {
                CommitRequest request = CommitRequest.of(newest.config().withVolume(next.get()), author, cluster.nodeName(), comment)
                        .expecting(newest.version());
                return Optional.of(cluster.commit(request));
            } catch (CommitException e) {
                if (e.reason() != CommitException.Reason.CONFLICT) throw e;
                last = e;
            }
        }
        throw last;
    }
}
