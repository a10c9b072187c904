package dev.tandem.cluster.node;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitException.Reason;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.ObservedState;
import dev.tandem.cluster.node.RaftCommands.Outcome;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigValidator;
import dev.tandem.config.InvalidConfigException;
import dev.tandem.config.Node;
import dev.tandem.store.NodeStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.MergeView;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.protocols.raft.Role;
import org.jgroups.raft.RaftHandle;
import org.jgroups.stack.Protocol;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's membership in the cluster: the JGroups control plane, the raft-replicated config
 * document, and the exchange of observed state. Queries never wait on the network; only
 * {@link #commit} does.
 */
public final class ClusterNode implements ClusterService, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final long PUBLISH_EVERY_MS = 2000;
    public static final String OBSERVED_CONFIG_VERSION = "config.version";
    private static final int JOIN_ATTEMPTS = 10;

    private final String self;
    private final ClusterConfig bootConfig;
    private final NodeStore store;
    private final JChannel channel;
    private final RaftHandle raft;
    private final ConfigStateMachine stateMachine;
    private final ObservedStateExchange observed;
    private final CopyOnWriteArrayList<Consumer<ConfigVersion>> listeners = new CopyOnWriteArrayList<>();
    // work that must not run on a JGroups thread, on three threads so that none can stall another:
    // listeners and views; observed-state sends (a send may wait for a connection); the seed commit (waits for raft)
    private final ScheduledExecutorService events = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "cluster-events"));
    private final ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "observed-publisher"));
    private final ScheduledExecutorService seeder = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "seed-commit"));

    private ClusterNode(String self, ClusterConfig bootConfig, NodeStore store, JChannel channel, ClusterConfig seed) {
        this.self = self;
        this.bootConfig = bootConfig;
        this.store = store;
        this.channel = channel;
        this.observed = new ObservedStateExchange(self, this::multicast);
        this.stateMachine = new ConfigStateMachine(seed, store, this::applied);
        this.raft = new RaftHandle(channel, stateMachine);
    }

    /**
     * Joins the cluster. The stack is built from the newest version this node has recorded (or the seed on
     * a first start); raft then replays its log locally, so {@link #running} is current before any quorum.
     *
     * @param testProtocols protocols placed right above the transport; empty outside tests
     */
    public static ClusterNode start(String nodeName, ClusterConfig seed, Path dataDir, SSLContext tls, NodeStore store,
            List<Protocol> testProtocols) throws Exception {
        ClusterConfig boot = store.latestVersion().map(ConfigVersion::config).orElse(seed);
        Node self = boot.node(nodeName).orElseThrow(() -> new InvalidConfigException(
                "nodes", "this node \"" + nodeName + "\" is not in the cluster document"));
        Path raftDir = Files.createDirectories(dataDir.resolve("raft"));
        JChannel channel = new JChannel(ControlPlaneStack.build(boot, self, tls, raftDir, testProtocols)).name(nodeName);
        ClusterNode node = new ClusterNode(nodeName, boot, store, channel, seed);
        try {
            node.connect();
        } catch (Exception e) {
            node.close(); // the channel and our threads, which would otherwise outlive the failed start
            throw e;
        }
        return node;
    }

    private void connect() throws Exception {
        raft.addRoleListener(this::roleChanged);
        channel.setReceiver(new Receiver() {
            @Override
            public void receive(Message msg) {
                observed.received(Arrays.copyOfRange(msg.getArray(), msg.getOffset(), msg.getOffset() + msg.getLength()));
            }

            @Override
            public void viewAccepted(View view) {
                events.execute(logged(() -> onView(view)));
            }
        });
        joinControlPlane();
        LOG.info("node {} joined the control plane as {}; running config version {}", self, channel.getAddress(),
                running().version());
        observed.put(OBSERVED_CONFIG_VERSION, Long.toString(running().version()));
        publisher.scheduleWithFixedDelay(logged(observed::publish), PUBLISH_EVERY_MS, PUBLISH_EVERY_MS, TimeUnit.MILLISECONDS);
        seeder.scheduleWithFixedDelay(logged(this::commitSeedIfLeader), PUBLISH_EVERY_MS, PUBLISH_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * A JOIN answered late (slow links, cold JVMs) is retried by JGroups, and jgroups-raft's NO_DUPES then
     * refuses the retry because the first attempt already made us a member. That is transient: try again
     * rather than die.
     */
    private void joinControlPlane() throws Exception {
        String clusterName = "tandem-" + bootConfig.cluster().name();
        for (int attempt = 1; ; attempt++) {
            try {
                channel.connect(clusterName);
                return;
            } catch (Exception e) {
                if (attempt == JOIN_ATTEMPTS) throw e;
                LOG.warn("joining the control plane failed ({}); retrying ({}/{})", e.getMessage(), attempt, JOIN_ATTEMPTS);
                Thread.sleep(1000L * attempt);
            }
        }
    }

    private void onView(View view) {
        Set<String> names = names(view.getMembers());
        if (view instanceof MergeView) {
            LOG.info("partition healed, merged view {}", names);
        } else {
            LOG.info("view {}: {}", view.getViewId().getId(), names);
        }
        observed.viewChanged(names);
    }

    private void roleChanged(Role role) {
        LOG.info("raft role of {}: {} (term {})", self, role, raft.currentTerm());
        if (role == Role.Leader) seeder.execute(logged(this::commitSeedIfLeader));
    }

    /** The first leader of a new cluster commits the seed document as version 1 (exactly once: it expects version 0). */
    private void commitSeedIfLeader() {
        if (!raft.isLeader() || running().version() != 0) return;
        try {
            commit(new CommitRequest(bootConfig, 0L, "tandem", self, "cluster created", Instant.now()));
        } catch (CommitException e) {
            if (e.reason() != Reason.CONFLICT) LOG.warn("could not commit the seed document yet: {}", e.getMessage());
        }
    }

    private void applied(ConfigVersion version) {
        events.execute(logged(() -> {
            observed.put(OBSERVED_CONFIG_VERSION, Long.toString(version.version()));
            for (Consumer<ConfigVersion> listener : listeners) {
                try {
                    listener.accept(version);
                } catch (RuntimeException e) {
                    LOG.error("config listener failed on version {}", version.version(), e);
                }
            }
        }));
    }

    /** Observed state is refreshed every few seconds anyway: never wait for flow control or a slow peer. */
    private void multicast(byte[] payload) {
        publisher.execute(() -> {
            if (!channel.isConnected()) return;
            try {
                channel.send(new BytesMessage(null, payload).setFlag(Message.TransientFlag.DONT_BLOCK));
            } catch (Exception e) {
                LOG.debug("could not send observations: {}", e.toString());
            }
        });
    }

    @Override
    public String nodeName() {
        return self;
    }

    @Override
    public ConfigVersion running() {
        return stateMachine.running();
    }

    @Override
    public ConfigVersion commit(CommitRequest request) throws CommitException {
        ConfigVersion current = running();
        try {
            if (current.version() == 0) ConfigValidator.validate(request.config());
            else ConfigValidator.validateChange(current.config(), request.config());
        } catch (InvalidConfigException e) {
            throw new CommitException(Reason.INVALID, e.getMessage());
        }
        requireQuorum();
        return awaitApplied(propose(request));
    }

    @Override
    public ConfigVersion sync() throws CommitException {
        requireQuorum();
        return awaitApplied(propose(CommitRequest.barrier(self)));
    }

    /** Proposes an entry through raft and returns the version the leader's state machine reported. */
    private long propose(CommitRequest request) throws CommitException {
        byte[] encoded = RaftCommands.encode(request);
        Outcome outcome;
        try {
            outcome = RaftCommands.decodeOutcome(
                    raft.set(encoded, 0, encoded.length, COMMIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            throw new CommitException(Reason.TIMEOUT, "no answer from the raft leader within "
                    + COMMIT_TIMEOUT.toSeconds() + "s; the commit may or may not have happened: look at the config history");
        } catch (Exception e) {
            requireQuorum();
            throw new CommitException(Reason.TIMEOUT, "the commit did not complete: " + e.getMessage());
        }
        if (outcome.refused() != null) throw new CommitException(outcome.refused(), outcome.message());
        return outcome.version();
    }

    private void requireQuorum() throws CommitException {
        Membership m = membership();
        List<String> voters = bootConfig.voterNames();
        if (!m.quorum()) {
            throw new CommitException(Reason.NO_QUORUM, "no majority: this node reaches " + m.reachableNames()
                    + " of the voters " + voters + " and a commit needs " + (voters.size() / 2 + 1)
                    + "; still serving version " + running().version());
        }
        if (m.leader() == null) {
            throw new CommitException(Reason.NO_QUORUM, "no raft leader elected yet (reaching " + m.reachableNames() + ")");
        }
    }

    /** The leader has applied the version; wait (briefly) until this node has too, so callers read their own writes. */
    private ConfigVersion awaitApplied(long version) throws CommitException {
        long deadline = System.nanoTime() + COMMIT_TIMEOUT.toNanos();
        while (running().version() < version) {
            if (System.nanoTime() > deadline) {
                throw new CommitException(Reason.TIMEOUT, "version " + version
                        + " was committed by the majority but this node has not applied it yet");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommitException(Reason.TIMEOUT, "interrupted while waiting for version " + version);
            }
        }
        ConfigVersion now = running();
        return now.version() == version ? now : store.version(version).orElse(now);
    }

    @Override
    public Membership membership() {
        View view = channel.getView();
        Set<String> reachable = view == null ? Set.of(self) : names(view.getMembers());
        List<Member> members = new ArrayList<>();
        for (Node node : bootConfig.nodes()) {
            members.add(new Member(node.name(), node.site(), node.roleName(), reachable.contains(node.name())));
        }
        long votersReachable = bootConfig.voterNames().stream().filter(reachable::contains).count();
        boolean quorum = votersReachable >= bootConfig.voterNames().size() / 2 + 1;
        Address leader = raft.leader();
        return new Membership(members, leader == null ? null : nameOf(leader), quorum);
    }

    private static Set<String> names(List<Address> addresses) {
        return addresses.stream().map(ClusterNode::nameOf).collect(Collectors.toCollection(java.util.TreeSet::new));
    }

    private static String nameOf(Address address) {
        String name = NameCache.get(address);
        return name == null ? address.toString() : name;
    }

    @Override
    public ObservedState observed() {
        return observed;
    }

    @Override
    public void addConfigListener(Consumer<ConfigVersion> listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        seeder.shutdownNow();
        publisher.shutdownNow();
        events.shutdownNow();
        channel.close();
        LOG.info("node {} left the control plane", self);
    }

    /** An executor swallows a task's exception; a failure here must be seen, and must not cancel a periodic task. */
    private static Runnable logged(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("cluster event task failed", e);
            }
        };
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
