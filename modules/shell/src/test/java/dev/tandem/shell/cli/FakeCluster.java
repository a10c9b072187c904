package dev.tandem.shell.cli;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.cluster.ObservedState;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigValidator;
import dev.tandem.config.InvalidConfigException;
import dev.tandem.store.AuditEntry;
import dev.tandem.store.NodeStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A one-node cluster and store in memory, applying commits the way the raft state machine does. */
final class FakeCluster implements ClusterService, NodeStore {
    private final Map<Long, ConfigVersion> versions = new TreeMap<>();
    final List<AuditEntry> audit = new CopyOnWriteArrayList<>();
    private final List<Consumer<ConfigVersion>> listeners = new CopyOnWriteArrayList<>();
    private volatile ConfigVersion running;

    FakeCluster(ClusterConfig first) {
        running = new ConfigVersion(1, first, "tandem", "a1", java.time.Instant.now(), "cluster created");
        versions.put(1L, running);
    }

    @Override
    public synchronized ConfigVersion commit(CommitRequest r) throws CommitException {
        if (r.expectedVersion() != null && r.expectedVersion() != running.version()) {
            throw new CommitException(CommitException.Reason.CONFLICT, "running is now version " + running.version());
        }
        try {
            ConfigValidator.validateChange(running.config(), r.config());
        } catch (InvalidConfigException e) {
            throw new CommitException(CommitException.Reason.INVALID, e.getMessage());
        }
        running = new ConfigVersion(running.version() + 1, r.config(), r.author(), r.origin(), r.requestedAt(), r.comment());
        versions.put(running.version(), running);
        listeners.forEach(l -> l.accept(running));
        return running;
    }

    @Override
    public String nodeName() {
        return "a1";
    }

    @Override
    public ConfigVersion running() {
        return running;
    }

    @Override
    public ConfigVersion sync() {
        return running;
    }

    @Override
    public Membership membership() {
        return new Membership(List.of(new Member("a1", "site-a", "services", true)), "a1", true);
    }

    @Override
    public ObservedState observed() {
        return new ObservedState() {
            @Override
            public void put(String key, String value) {}

            @Override
            public Map<String, NodeObservations> all() {
                return Map.of("a1", new NodeObservations("a1", Map.of("config.version", Long.toString(running.version())), java.time.Instant.now(), false));
            }

            @Override
            public void addListener(Runnable onChange) {}
        };
    }

    @Override
    public void addConfigListener(Consumer<ConfigVersion> listener) {
        listeners.add(listener);
    }

    @Override
    public boolean recordVersion(ConfigVersion version) {
        return versions.putIfAbsent(version.version(), version) == null;
    }

    @Override
    public Optional<ConfigVersion> latestVersion() {
        return Optional.of(running);
    }

    @Override
    public synchronized Optional<ConfigVersion> version(long number) {
        return Optional.ofNullable(versions.get(number));
    }

    @Override
    public synchronized List<ConfigVersion> history(int limit) {
        List<ConfigVersion> all = new ArrayList<>(versions.values());
        all.sort(Comparator.comparingLong(ConfigVersion::version).reversed());
        return all.subList(0, Math.min(limit, all.size()));
    }

    @Override
    public void audit(AuditEntry entry) {
        audit.add(entry);
    }

    @Override
    public List<AuditEntry> auditLog(int limit) {
        return List.copyOf(audit);
    }

    @Override
    public Optional<String> local(String key) {
        return Optional.empty();
    }

    @Override
    public void putLocal(String key, String value) {}
}
