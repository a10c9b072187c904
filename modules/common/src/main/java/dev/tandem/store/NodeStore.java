package dev.tandem.store;

import dev.tandem.cluster.ConfigVersion;
import java.util.List;
import java.util.Optional;

/** A node's local durable state: the applied config versions, the audit log, node-local key/values. */
public interface NodeStore {
    /**
     * Records an applied version and its audit row, exactly once: raft replays its log at every start,
     * so recording a version already there changes nothing and returns false.
     */
    boolean recordVersion(ConfigVersion version);

    Optional<ConfigVersion> latestVersion();

    Optional<ConfigVersion> version(long number);

    /** The newest versions first, at most {@code limit}. */
    List<ConfigVersion> history(int limit);

    void audit(AuditEntry entry);

    /** The newest entries first, at most {@code limit}. */
    List<AuditEntry> auditLog(int limit);

    Optional<String> local(String key);

    void putLocal(String key, String value);
}
