package dev.tandem.replication;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.VolumeCommits;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.Node;
import dev.tandem.config.Volume;
import dev.tandem.pki.MutualTls;
import dev.tandem.pki.NodeCredentials;
import dev.tandem.replication.nbd.NbdExport;
import dev.tandem.replication.nbd.NbdExports;
import dev.tandem.replication.nbd.NbdServer;
import dev.tandem.replication.shell.VolumeShellCommands;
import dev.tandem.replication.volume.Decisions;
import dev.tandem.replication.volume.PeerConnector;
import dev.tandem.replication.volume.Replica;
import dev.tandem.replication.volume.ReplicaStatus;
import dev.tandem.replication.volume.ReplicationServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicated volumes as a reconciler: opens this node's replica of each volume it holds, makes it
 * primary or secondary as the newest config says, serves the replication stream (TLS, cluster CA) and
 * exports primaries over NBD. A primary that has lost quorum for longer than its lease fences itself:
 * by then the others may have promoted someone else.
 */
public final class ReplicationComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationComponent.class);
    /** Observed state: {@code volume.NAME} → this node's {@link ReplicaStatus} as JSON. */
    public static final String STATUS_PREFIX = "volume.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Replica> replicas = new ConcurrentHashMap<>();
    private final Map<String, String> published = new HashMap<>();
    private ComponentContext context;
    private SSLContext tls;
    private ReplicationServer server;
    private NbdServer nbd;
    private ScheduledExecutorService ticker;
    private volatile long quorumLostAt;
    private volatile ClusterConfig config;

    @Override
    public String name() {
        return "replication";
    }

    @Override
    public void start(ComponentContext context) throws Exception {
        this.context = context;
        this.tls = MutualTls.context(NodeCredentials.read(context.local().tlsDir()));
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "repl-ticker");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleWithFixedDelay(this::tick, 250, 250, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void apply(ConfigVersion version) throws Exception {
        ClusterConfig config = version.config();
        this.config = config;
        Node self = context.self();
        List<Volume> mine = config.volumes().stream().filter(v -> v.replica(self.name()).isPresent()).toList();
        for (String name : List.copyOf(replicas.keySet())) {
            if (mine.stream().noneMatch(v -> v.name().equals(name))) {
                LOG.info("volume {}: no longer held here; closing (its data stays in place)", name);
                replicas.remove(name).close();
            }
        }
        if (mine.isEmpty()) {
            stopServers();
            return;
        }
        for (Volume v : mine) {
            if (replicas.containsKey(v.name())) continue;
            try {
                replicas.put(v.name(), Replica.open(self.name(), v, volumeDir(v.name()), decisions(), connector()));
            } catch (Exception e) {
                LOG.error("volume {}: cannot open its replica here: {}", v.name(), e.getMessage());
            }
        }
        // the replicas are open before the listener: a primary that connects at once finds them
        startServers(self);
        ConfigVersion confirmed = null;
        for (Volume v : mine) {
            Replica replica = replicas.get(v.name());
            if (replica == null) continue;
            if (self.name().equals(v.effectivePrimary()) && replica.role() == Replica.Role.SECONDARY) {
                // never promote on a version that may be stale (raft replays its log at start): read the newest first
                if (confirmed == null) confirmed = newestOrNull();
                if (confirmed == null) continue; // no quorum: no promotion; the ticker tries again
                v = confirmed.config().volume(v.name()).orElse(v);
                replica.apply(v, confirmed.version());
            } else {
                replica.apply(v, version.version());
            }
        }
        publish();
    }

    private ConfigVersion newestOrNull() {
        try {
            return context.cluster().sync();
        } catch (Exception e) {
            LOG.info("not promoting yet: the newest config cannot be confirmed ({})", e.getMessage());
            return null;
        }
    }

    /** A replica the config names primary that is not (yet) one: apply again, which confirms and promotes. */
    private void retryPromotions() {
        ClusterConfig c = config;
        if (c == null) return;
        String self = context.cluster().nodeName();
        boolean pending = replicas.values().stream().anyMatch(r -> r.role() == Replica.Role.SECONDARY
                && c.volume(r.name()).map(v -> self.equals(v.effectivePrimary())).orElse(false));
        if (!pending) return;
        try {
            apply(context.cluster().running());
        } catch (Exception e) {
            LOG.warn("promotion retry failed", e);
        }
    }

    private Path volumeDir(String name) {
        return context.local().dataDir().resolve("volumes").resolve(name);
    }

    private void startServers(Node self) throws Exception {
        if (server == null) {
            server = ReplicationServer.start(new InetSocketAddress(self.controlAddress(), Volume.REPLICATION_PORT), tls, replicas::get);
        }
        if (nbd == null) {
            nbd = NbdServer.start(new InetSocketAddress(self.effectiveAdminAddress(), Volume.NBD_PORT), new PrimaryExports());
            LOG.info("NBD exports of primary volumes on {}:{}", self.effectiveAdminAddress(), Volume.NBD_PORT);
        }
    }

    private void stopServers() {
        if (nbd != null) nbd.close();
        nbd = null;
        if (server != null) server.close();
        server = null;
    }

    private PeerConnector connector() {
        return new PeerConnector(tls, node -> Optional.ofNullable(config).flatMap(c -> c.node(node))
                .map(n -> new InetSocketAddress(n.controlAddress(), Volume.REPLICATION_PORT)));
    }

    private Decisions decisions() {
        return new Decisions() {
            @Override
            public long markOutdated(String volume, long epoch, Set<String> peers) throws Exception {
                var cluster = context.cluster();
                String self = cluster.nodeName();
                long[] result = {-1};
                VolumeCommits.update(cluster, volume, v -> {
                    if (!self.equals(v.effectivePrimary()) || v.epoch() != epoch) return Optional.empty();
                    List<String> outdated = new ArrayList<>(v.outdated());
                    peers.stream().filter(p -> !outdated.contains(p)).forEach(outdated::add);
                    if (outdated.equals(v.outdated())) {
                        result[0] = cluster.running().version();
                        return Optional.empty();
                    }
                    return Optional.of(v.withOutdated(outdated));
                }, "tandem", "volume " + volume + ": " + self + " writes on without " + String.join(", ", peers)
                        + " (epoch " + epoch + "): outdated until resynced").ifPresent(v -> result[0] = v.version());
                return result[0];
            }

            @Override
            public void markUpToDate(String volume, long epoch, String peer) throws Exception {
                String self = context.cluster().nodeName();
                VolumeCommits.update(context.cluster(), volume, v -> {
                    if (!self.equals(v.effectivePrimary()) || v.epoch() != epoch || !v.outdated().contains(peer)) return Optional.empty();
                    return Optional.of(v.withOutdated(v.outdated().stream().filter(p -> !p.equals(peer)).toList()));
                }, "tandem", "volume " + volume + ": " + peer + " is up to date again (resynced from " + self + ")");
            }
        };
    }

    /** Four times a second: the lease, the bitmaps on disk, and the published status. */
    private void tick() {
        try {
            checkLease();
            if (context.cluster().membership().quorum()) retryPromotions();
            replicas.values().forEach(Replica::saveBitmaps);
            publish();
        } catch (RuntimeException e) {
            LOG.warn("replication tick failed", e);
        }
    }

    private void checkLease() {
        boolean quorum = context.cluster().membership().quorum();
        long now = System.currentTimeMillis();
        if (quorum) {
            boolean wasLost = quorumLostAt != 0;
            quorumLostAt = 0;
            if (wasLost) ticker.execute(this::unfenceAfterQuorum);
            return;
        }
        if (quorumLostAt == 0) quorumLostAt = now;
        for (Replica r : replicas.values()) {
            Volume v = r.config();
            if (r.role() == Replica.Role.PRIMARY && now - quorumLostAt > v.failover().lease().toMillis()) {
                r.fence("no quorum for " + (now - quorumLostAt) + " ms, longer than the lease of "
                        + v.failover().lease().toMillis() + " ms: another site may be promoted");
            }
        }
    }

    /** Quorum is back: a fenced primary serves again only if the newest committed config still names it under the same epoch. */
    private void unfenceAfterQuorum() {
        if (replicas.values().stream().noneMatch(r -> r.role() == Replica.Role.FENCED)) return;
        try {
            ConfigVersion newest = context.cluster().sync();
            synchronized (this) {
                for (Replica r : replicas.values()) {
                    Optional<Volume> v = newest.config().volume(r.name());
                    if (v.isPresent() && r.role() == Replica.Role.FENCED && context.cluster().nodeName().equals(v.get().effectivePrimary())) {
                        r.unfence(v.get().epoch());
                    }
                }
            }
        } catch (Exception e) {
            LOG.info("quorum is back but the newest config could not be read yet: {}", e.getMessage());
            quorumLostAt = System.currentTimeMillis() - 1;
        }
    }

    private void publish() {
        for (Replica r : replicas.values()) {
            try {
                String value = JSON.writeValueAsString(r.status());
                String key = STATUS_PREFIX + r.name();
                if (!value.equals(published.get(key))) {
                    published.put(key, value);
                    context.cluster().observed().put(key, value);
                }
            } catch (JsonProcessingException e) {
                LOG.warn("volume {}: status not published", r.name(), e);
            }
        }
    }

    /** This node's replica of a volume, if it holds one. */
    public Optional<Replica> replica(String name) {
        return Optional.ofNullable(replicas.get(name));
    }

    public ComponentContext context() {
        return context;
    }

    @Override
    public List<ShellCommand> shellCommands() {
        return new VolumeShellCommands(this).commands();
    }

    @Override
    public synchronized void stop() {
        if (ticker != null) ticker.shutdownNow();
        stopServers();
        replicas.values().forEach(Replica::close);
        replicas.clear();
    }

    /** The NBD server offers exactly the volumes this node is primary for, looked up at each client's handshake. */
    private final class PrimaryExports implements NbdExports {
        @Override
        public Optional<NbdExport> find(String name) {
            Replica r = replicas.get(name);
            return r != null && r.role() == Replica.Role.PRIMARY ? Optional.of(r) : Optional.empty();
        }

        @Override
        public List<String> names() {
            return replicas.values().stream().filter(r -> r.role() == Replica.Role.PRIMARY).map(Replica::name).sorted().toList();
        }
    }
}
