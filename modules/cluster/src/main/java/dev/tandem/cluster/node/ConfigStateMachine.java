package dev.tandem.cluster.node;

import dev.tandem.cluster.CommitException.Reason;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.node.RaftCommands.Outcome;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigValidator;
import dev.tandem.config.InvalidConfigException;
import dev.tandem.store.NodeStore;
import java.io.DataInput;
import java.io.DataOutput;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.jgroups.raft.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated config document. Each raft entry proposes a whole new document; applying it is
 * deterministic (validation included), so every node accepts or refuses it alike and numbers the
 * versions alike. jgroups-raft replays the log at every start without telling us the index: the
 * in-memory state starts from the seed and is rebuilt exactly, and the store records each version
 * once, so a replay changes nothing.
 */
final class ConfigStateMachine implements StateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigStateMachine.class);

    private final NodeStore store;
    private final Consumer<ConfigVersion> onApplied;
    private volatile ConfigVersion running;

    ConfigStateMachine(ClusterConfig seed, NodeStore store, Consumer<ConfigVersion> onApplied) {
        this.running = ConfigVersion.seed(seed);
        this.store = store;
        this.onApplied = onApplied;
    }

    ConfigVersion running() {
        return running;
    }

    @Override
    public byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
        Outcome outcome = apply(data, offset, length);
        return serializeResponse ? RaftCommands.encode(outcome) : null;
    }

    private synchronized Outcome apply(byte[] data, int offset, int length) {
        CommitRequest request;
        try {
            request = RaftCommands.decodeRequest(data, offset, length);
        } catch (Exception e) {
            return Outcome.refused(Reason.INVALID, "unreadable commit: " + e.getMessage());
        }
        ConfigVersion current = running;
        if (request.isBarrier()) return Outcome.applied(current.version());
        if (request.expectedVersion() != null && request.expectedVersion() != current.version()) {
            return Outcome.refused(Reason.CONFLICT, "running is now version " + current.version() + " (by "
                    + current.author() + "), not version " + request.expectedVersion() + " the change was made on");
        }
        try {
            if (current.version() == 0) {
                ConfigValidator.validate(request.config());
            } else {
                ConfigValidator.validateChange(current.config(), request.config());
            }
        } catch (InvalidConfigException e) {
            return Outcome.refused(Reason.INVALID, e.getMessage());
        }
        ConfigVersion next = new ConfigVersion(current.version() + 1, request.config(), request.author(),
                request.origin(), request.requestedAt(), request.comment());
        record(next);
        running = next;
        onApplied.accept(next);
        return Outcome.applied(next.version());
    }

    private void record(ConfigVersion version) {
        try {
            store.recordVersion(version);
        } catch (RuntimeException e) {
            // the replicated state must advance with the others; the local history has a gap, which we say loudly
            LOG.error("applied config version {} but could not record it in the local store", version.version(), e);
        }
    }

    @Override
    public synchronized void writeContentTo(DataOutput out) throws Exception {
        // length-prefixed bytes: writeUTF stops at 64 KiB, and a document can be larger
        byte[] json = ConfigCodec.toJson(running).getBytes(StandardCharsets.UTF_8);
        out.writeInt(json.length);
        out.write(json);
    }

    @Override
    public synchronized void readContentFrom(DataInput in) throws Exception {
        byte[] json = new byte[in.readInt()];
        in.readFully(json);
        ConfigVersion snapshot = ConfigCodec.json().readValue(json, ConfigVersion.class);
        record(snapshot);
        running = snapshot;
        onApplied.accept(snapshot);
    }
}
