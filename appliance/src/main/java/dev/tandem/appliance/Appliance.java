package dev.tandem.appliance;

import dev.tandem.appliance.local.LocalAdminSocket;
import dev.tandem.cluster.node.ClusterNode;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ComponentManager;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.NodeLocalConfig;
import dev.tandem.dns.DnsComponent;
import dev.tandem.failover.FailoverComponent;
import dev.tandem.proxy.ProxyComponent;
import dev.tandem.replication.ReplicationComponent;
import dev.tandem.pki.MutualTls;
import dev.tandem.pki.NodeCredentials;
import dev.tandem.store.H2NodeStore;
import dev.tandem.shell.ShellComponent;
import dev.tandem.web.StatusComponent;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running node: its store, its place in the cluster, and its components, wired in start order. */
final class Appliance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Appliance.class);

    private final H2NodeStore store;
    private final ClusterNode cluster;
    private final ComponentManager components;
    private final LocalAdminSocket admin;

    private Appliance(H2NodeStore store, ClusterNode cluster, ComponentManager components, LocalAdminSocket admin) {
        this.store = store;
        this.cluster = cluster;
        this.components = components;
        this.admin = admin;
    }

    /** The components of this release, in start order (they stop in reverse); the shell last, with everyone's commands. */
    private static List<Component> components() {
        List<Component> components = new ArrayList<>(List.of(
                new StatusComponent(ClusterNode.OBSERVED_CONFIG_VERSION),
                new DnsComponent(),
                new ProxyComponent(),
                new ReplicationComponent(),
                new FailoverComponent()));
        List<ShellCommand> commands = components.stream().flatMap(c -> c.shellCommands().stream()).toList();
        components.add(new ShellComponent(commands));
        return components;
    }

    static Appliance start(NodeLocalConfig local) throws Exception {
        ClusterConfig seed = ConfigCodec.readYaml(local.seed());
        NodeCredentials credentials = NodeCredentials.read(local.tlsDir());
        if (!credentials.nodeName().equals(local.node())) {
            throw new IllegalStateException("the certificate in " + local.tlsDir() + " is for node \""
                    + credentials.nodeName() + "\", not \"" + local.node() + "\"");
        }
        H2NodeStore store = H2NodeStore.open(Files.createDirectories(local.dataDir().resolve("store")));
        ClusterNode cluster = null;
        ComponentManager components = new ComponentManager();
        try {
            cluster = ClusterNode.start(local.node(), seed, local.dataDir(), MutualTls.context(credentials), store, List.of());
            components.start(components(), new ComponentContext(local, cluster, store));
            LocalAdminSocket admin = LocalAdminSocket.open(local.dataDir(), cluster);
            LOG.info("node {} is up", local.node());
            return new Appliance(store, cluster, components, admin);
        } catch (Exception e) {
            components.close();
            if (cluster != null) cluster.close();
            store.close();
            throw e;
        }
    }

    @Override
    public void close() {
        admin.close();
        components.close();
        cluster.close();
        store.close();
    }
}
