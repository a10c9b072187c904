package dev.tandem.cluster.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.config.ConfigCodec;
import java.io.IOException;

/** The wire form of raft log entries and their results: JSON, with the same strict mapper as config files. */
final class RaftCommands {
    private static final ObjectMapper JSON = ConfigCodec.json();

    private RaftCommands() {}

    /** What applying one entry produced on the leader: the new version, or why nothing was applied. */
    record Outcome(Long version, CommitException.Reason refused, String message) {
        static Outcome applied(long version) {
            return new Outcome(version, null, null);
        }

        static Outcome refused(CommitException.Reason reason, String message) {
            return new Outcome(null, reason, message);
        }
    }

    static byte[] encode(CommitRequest request) {
        return ConfigCodec.toJson(request).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static CommitRequest decodeRequest(byte[] data, int offset, int length) throws IOException {
        return JSON.readValue(data, offset, length, CommitRequest.class);
    }

    static byte[] encode(Outcome outcome) {
        return ConfigCodec.toJson(outcome).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static Outcome decodeOutcome(byte[] data) throws IOException {
        return JSON.readValue(data, Outcome.class);
    }
}
