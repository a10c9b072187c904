package dev.tandem.cluster;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.tandem.config.ClusterConfig;
import java.time.Instant;

/**
 * A proposed new version of the whole document. The time is taken by the proposer, never at apply:
 * jgroups-raft replays its log on every start, and a replay must produce the same versions.
 *
 * @param expectedVersion if not null, the commit is refused unless the running version is still this
 *     one (a candidate edited against version N must not overwrite a change made meanwhile)
 */
public record CommitRequest(
        ClusterConfig config, Long expectedVersion, String author, String origin, String comment, Instant requestedAt) {

    public static CommitRequest of(ClusterConfig config, String author, String origin, String comment) {
        return new CommitRequest(config, null, author, origin, comment, Instant.now());
    }

    /** A no-op entry: applying it changes nothing; once it is applied, so is everything committed before it. */
    public static CommitRequest barrier(String origin) {
        return new CommitRequest(null, null, "tandem", origin, "read barrier", Instant.now());
    }

    @JsonIgnore // derived, not part of the wire form
    public boolean isBarrier() {
        return config == null;
    }

    public CommitRequest expecting(long version) {
        return new CommitRequest(config, version, author, origin, comment, requestedAt);
    }
}
