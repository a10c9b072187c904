package dev.tandem.cluster.node;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ClusterSettings;
import dev.tandem.config.Node;
import dev.tandem.config.Role;
import dev.tandem.config.Site;
import dev.tandem.pki.CertificateAuthority;
import dev.tandem.pki.MutualTls;
import dev.tandem.store.H2NodeStore;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import org.jgroups.protocols.DISCARD;

/**
 * Several nodes in one JVM, each on its own 127.0.x.1 address with the production stack (TLS, raft,
 * file log, H2), plus a DISCARD protocol above the transport so a test can cut a node off.
 */
final class TestCluster implements AutoCloseable {
    private final Path root;
    private final ClusterConfig config;
    private final CertificateAuthority ca;
    private final Map<String, Running> nodes = new LinkedHashMap<>();

    record Running(ClusterNode node, H2NodeStore store, DISCARD discard) {}

    TestCluster(Path root, int size) throws Exception {
        this.root = root;
        List<Site> sites = new ArrayList<>();
        List<Node> members = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            sites.add(new Site("site-" + i, null));
            members.add(new Node(name(i), "site-" + i, "127.0." + (100 + i) + ".1", null, null,
                    Set.of(i == size && size > 2 ? Role.WITNESS : Role.SERVICES)));
        }
        this.config = new ClusterConfig(1, new ClusterSettings("test", freePort(), null, null,
                        new ClusterSettings.FailureDetection(Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofSeconds(1))),
                sites, members, null, null, null, null, null);
        this.ca = CertificateAuthority.create("test");
    }

    static String name(int i) {
        return "n" + i;
    }

    ClusterConfig config() {
        return config;
    }

    /** Starts (or restarts, on the same data directory) one node. */
    ClusterNode start(String name) throws Exception {
        return start(name, ca);
    }

    ClusterNode start(String name, CertificateAuthority issuer) throws Exception {
        Node node = config.node(name).orElseThrow();
        SSLContext tls = MutualTls.context(issuer.issue(name, List.of(node.controlAddress())));
        H2NodeStore store = H2NodeStore.open(root.resolve(name));
        DISCARD discard = new DISCARD();
        ClusterNode started = ClusterNode.start(name, config, root.resolve(name), tls, store, List.of(discard));
        nodes.put(name, new Running(started, store, discard));
        return started;
    }

    void startAll() throws Exception {
        for (Node node : config.nodes()) start(node.name());
    }

    ClusterNode node(String name) {
        return nodes.get(name).node();
    }

    H2NodeStore store(String name) {
        return nodes.get(name).store();
    }

    List<ClusterNode> running() {
        return nodes.values().stream().map(Running::node).toList();
    }

    /** Cuts the node off from everyone, both ways, as a dead link would. */
    void isolate(String name, boolean cut) {
        nodes.get(name).discard().discardAll(cut);
    }

    void stop(String name) {
        Running r = nodes.remove(name);
        r.node().close();
        r.store().close();
    }

    @Override
    public void close() {
        for (String name : List.copyOf(nodes.keySet())) stop(name);
    }

    private static int freePort() throws Exception {
        // a free port on loopback is free on 127.0.10x.1 too
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = 20000 + (int) (Math.random() * 20000);
            try (ServerSocket probe = new ServerSocket(port)) {
                return port;
            } catch (java.io.IOException busy) {
                // try another
            }
        }
        throw new IllegalStateException("no free port found");
    }
}
