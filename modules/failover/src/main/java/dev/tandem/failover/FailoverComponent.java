package dev.tandem.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.cluster.VolumeCommits;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.Volume;
import dev.tandem.store.AuditEntry;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failover controller and each volume's resource group on this node.
 *
 * <p>Controller: on the raft leader, with quorum, a volume whose primary's node has been unreachable
 * for {@code failover.dead_after} gets a new primary: the first replica that is reachable, not
 * outdated and reports consistent data, committed with the next epoch by compare-and-set (so a
 * decision made on a stale view never lands). The old primary has fenced itself by then: its lease is
 * shorter than {@code dead_after}.
 *
 * <p>Group: on the node the newest config names primary, once its replica serves as primary, the
 * mount and the service start in order; when it no longer does, they stop in reverse.
 */
public final class FailoverComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverComponent.class);
    /** Observed state: {@code failover.VOLUME} → the group's state and the last promotion's steps here, as JSON. */
    public static final String STATUS_PREFIX = "failover.";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final Map<String, Long> unreachableSince = new ConcurrentHashMap<>();
    private final Map<String, String> noCandidateReported = new ConcurrentHashMap<>();
    private final Map<String, ResourceGroup> groups = new ConcurrentHashMap<>();
    private final Map<String, Promotion> promotions = new ConcurrentHashMap<>();
    private final Map<String, String> published = new ConcurrentHashMap<>();
    private ComponentContext context;
    private ScheduledExecutorService ticker;
    private ExecutorService groupRunner;
    private volatile ConfigVersion running;
    private final Instant startedAt = Instant.now();

    /** A promotion of this node, from the decision to a running group, step by step. */
    record Promotion(long epoch, Instant decidedAt, String decidedBy, List<ResourceGroup.Step> steps, String group) {}

    @Override
    public String name() {
        return "failover";
    }

    @Override
    public void start(ComponentContext context) {
        this.context = context;
        ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "failover-ticker"));
        groupRunner = Executors.newSingleThreadExecutor(r -> daemon(r, "failover-group"));
        ticker.scheduleWithFixedDelay(this::tick, 250, 250, TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void apply(ConfigVersion version) {
        running = version;
    }

    private void tick() {
        try {
            ConfigVersion version = running;
            if (version == null) return;
            decideAsLeader(version.config());
            reconcileGroups(version);
            publish();
        } catch (RuntimeException e) {
            LOG.warn("failover tick failed", e);
        }
    }

    // ---- controller (raft leader only) -----------------------------------------------------------------

    private void decideAsLeader(ClusterConfig config) {
        ClusterService cluster = context.cluster();
        Membership membership = cluster.membership();
        boolean leading = membership.quorum() && cluster.nodeName().equals(membership.leader());
        long now = System.currentTimeMillis();
        for (Volume v : config.volumes()) {
            String primary = v.effectivePrimary();
            if (!leading || FailoverPlanner.reachable(membership, primary) || v.replicas().size() < 2) {
                unreachableSince.remove(v.name());
                noCandidateReported.remove(v.name());
                continue;
            }
            long since = unreachableSince.computeIfAbsent(v.name(), k -> now);
            if (!v.failover().automatic() || now - since < v.failover().deadAfter().toMillis()) continue;
            FailoverPlanner.Choice choice = FailoverPlanner.choose(v, membership, cluster.observed().all());
            String seen = primary + " unreachable since " + TIME.format(Instant.ofEpochMilli(since)) + " (" + (now - since) + " ms)";
            if (choice.node().isEmpty()) {
                if (!choice.reasoning().equals(noCandidateReported.put(v.name(), choice.reasoning()))) {
                    LOG.error("volume {}: {}; no replica can take over automatically: {}. `failover promote {} --force` on a replica says what it risks",
                            v.name(), seen, choice.reasoning(), v.name());
                    context.store().audit(new AuditEntry(Instant.now(), "tandem", "failover@" + cluster.nodeName(),
                            "failover.refused", v.name() + ": " + seen + "; no candidate: " + choice.reasoning()));
                }
                continue;
            }
            promote(v, choice.node().get(), seen + "; chose " + choice.node().get() + " (" + choice.reasoning() + ")");
        }
    }

    private void promote(Volume v, String node, String reasoning) {
        long epoch = v.epoch();
        String primary = v.effectivePrimary();
        try {
            Optional<ConfigVersion> done = VolumeCommits.update(context.cluster(), v.name(), current -> {
                // only the decision this tick was about: the same primary under the same epoch
                if (!current.effectivePrimary().equals(primary) || current.epoch() != epoch) return Optional.empty();
                return Optional.of(current.withPrimary(node, epoch + 1));
            }, "failover", "failover " + v.name() + ": " + node + " is primary under epoch " + (epoch + 1) + ": " + reasoning);
            done.ifPresent(version -> LOG.warn("volume {}: failover to {} under epoch {} (config version {}): {}",
                    v.name(), node, epoch + 1, version.version(), reasoning));
            unreachableSince.remove(v.name());
        } catch (CommitException e) {
            LOG.warn("volume {}: failover to {} not committed: {}", v.name(), node, e.getMessage());
        }
    }

    /** What the controller sees right now, for {@code show failover}. */
    String controllerView(Volume v) {
        Long since = unreachableSince.get(v.name());
        if (since == null) return "primary reachable";
        long gone = System.currentTimeMillis() - since;
        long left = v.failover().deadAfter().toMillis() - gone;
        if (!v.failover().automatic()) return v.effectivePrimary() + " unreachable for " + gone + " ms; automatic failover is off";
        String refused = noCandidateReported.get(v.name());
        if (refused != null) return v.effectivePrimary() + " unreachable for " + gone + " ms; no candidate: " + refused;
        return v.effectivePrimary() + " unreachable for " + gone + " ms; failover in " + Math.max(0, left) + " ms";
    }

    // ---- resource groups (every node) -------------------------------------------------------------------

    private void reconcileGroups(ConfigVersion version) {
        String self = context.cluster().nodeName();
        for (Volume v : version.config().volumes()) {
            ResourceGroup group = groups.computeIfAbsent(v.name(), ResourceGroup::new);
            boolean decided = self.equals(v.effectivePrimary());
            String role = ownReplicaRole(v.name());
            boolean serving = decided && "primary".equals(role);
            ResourceGroup.State state = group.state();
            Promotion p = promotions.get(v.name());
            if (serving && (p == null || p.epoch() != v.epoch())) {
                Instant decisionTime = decidedAt(version, v);
                // a decision older than this process (a restart of the primary) has no promotion time to report
                List<ResourceGroup.Step> first = decisionTime.isBefore(startedAt) ? List.of()
                        : List.of(new ResourceGroup.Step("decision to volume primary", msSince(decisionTime), "ok"));
                Promotion started = new Promotion(v.epoch(), decisionTime, decidedBy(version, v), first, "starting");
                promotions.put(v.name(), started);
                groupRunner.execute(() -> startGroup(v, started));
            } else if (!serving && state == ResourceGroup.State.RUNNING) {
                groupRunner.execute(() -> stopGroup(v, decided ? "the replica is " + role : "the primary is now " + v.effectivePrimary()));
                promotions.remove(v.name());
            }
        }
    }

    private void startGroup(Volume v, Promotion p) {
        ResourceGroup group = groups.get(v.name());
        var self = context.self();
        List<ResourceGroup.Step> steps = new ArrayList<>(p.steps());
        steps.addAll(group.start(v, self.effectiveAdminAddress(), Volume.NBD_PORT));
        String state = group.state() == ResourceGroup.State.RUNNING ? "running" : "failed: " + group.problem();
        promotions.put(v.name(), new Promotion(p.epoch(), p.decidedAt(), p.decidedBy(), steps, state));
        String detail = v.name() + " epoch " + p.epoch() + ": " + describe(steps) + "; group " + state;
        LOG.info("volume {}: promoted here: {}", v.name(), detail);
        context.store().audit(new AuditEntry(Instant.now(), "tandem", "failover@" + context.cluster().nodeName(), "failover.started", detail));
    }

    private void stopGroup(Volume v, String why) {
        List<ResourceGroup.Step> steps = groups.get(v.name()).stop(v);
        String detail = v.name() + ": " + why + (steps.isEmpty() ? "" : "; " + describe(steps));
        LOG.info("volume {}: group stopped: {}", v.name(), detail);
        context.store().audit(new AuditEntry(Instant.now(), "tandem", "failover@" + context.cluster().nodeName(), "failover.stopped", detail));
    }

    static String describe(List<ResourceGroup.Step> steps) {
        List<String> parts = new ArrayList<>();
        for (ResourceGroup.Step s : steps) parts.add(s.name() + " " + s.millis() + " ms" + (s.result().equals("ok") ? "" : " (" + s.result() + ")"));
        return String.join(", ", parts);
    }

    private String ownReplicaRole(String volume) {
        NodeObservations own = context.cluster().observed().all().get(context.cluster().nodeName());
        String raw = own == null ? null : own.values().get("volume." + volume);
        if (raw == null) return "not open";
        try {
            JsonNode status = JSON.readTree(raw);
            return status.path("role").asText();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** When the version that made the current primary was committed: the newest version with this epoch's first appearance. */
    private Instant decidedAt(ConfigVersion version, Volume v) {
        return FailoverHistory.epochStart(context.store(), v.name(), v.epoch()).map(ConfigVersion::committedAt).orElse(version.committedAt());
    }

    private String decidedBy(ConfigVersion version, Volume v) {
        return FailoverHistory.epochStart(context.store(), v.name(), v.epoch()).map(ConfigVersion::author).orElse(version.author());
    }

    private static long msSince(Instant t) {
        return Math.max(0, System.currentTimeMillis() - t.toEpochMilli());
    }

    private void publish() {
        for (Map.Entry<String, Promotion> e : promotions.entrySet()) {
            try {
                Map<String, Object> value = new LinkedHashMap<>();
                value.put("epoch", e.getValue().epoch());
                value.put("group", e.getValue().group());
                value.put("steps", describe(e.getValue().steps()));
                String json = JSON.writeValueAsString(value);
                String key = STATUS_PREFIX + e.getKey();
                if (!json.equals(published.get(key))) {
                    published.put(key, json);
                    context.cluster().observed().put(key, json);
                }
            } catch (Exception ex) {
                LOG.debug("failover status not published", ex);
            }
        }
    }

    ComponentContext context() {
        return context;
    }

    Map<String, ResourceGroup> groups() {
        return groups;
    }

    @Override
    public List<ShellCommand> shellCommands() {
        return FailoverShellCommands.of(this);
    }

    /** An orderly stop takes the groups down too, as a cluster manager stops its resources. */
    @Override
    public void stop() throws InterruptedException {
        if (ticker != null) ticker.shutdownNow();
        if (groupRunner != null) {
            groupRunner.shutdown();
            groupRunner.awaitTermination(30, TimeUnit.SECONDS);
        }
        ConfigVersion version = running;
        if (version == null) return;
        for (Volume v : version.config().volumes()) {
            ResourceGroup g = groups.get(v.name());
            if (g != null && g.state() == ResourceGroup.State.RUNNING) stopGroup(v, "the node is stopping");
        }
    }
}
