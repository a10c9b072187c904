package dev.tandem.appliance;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigTree;
import dev.tandem.config.InvalidConfigException;
import dev.tandem.config.ConfigValidator;
import dev.tandem.config.Node;
import dev.tandem.pki.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Creates a cluster: a CA, and for every node a directory holding its {@code node.yaml}, the cluster
 * document it starts from, and its certificate and key. Copy each node's directory to its machine.
 */
@Command(name = "init", description = "Create a cluster: a CA and one directory per node (certificate, key, node.yaml).")
final class InitCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the cluster document (YAML), e.g. configs/demo/cluster.yaml")
    Path config;

    @Option(names = "--out", required = true, description = "where to write ca/ and one directory per node")
    Path out;

    @Option(names = "--admin-key", description = "an OpenSSH public key file (e.g. ~/.ssh/id_ed25519.pub): user \"admin\" with the admin role logs in with it")
    Path adminKey;

    /** Adds the key to user "admin" (created with the admin role if the document has no such user). */
    private ClusterConfig withAdminKey(ClusterConfig document) throws Exception {
        if (adminKey == null) return document;
        String key = Files.readString(adminKey).trim();
        ConfigTree tree = ConfigTree.of(document);
        if (document.users().stream().noneMatch(u -> u.name().equals("admin"))) tree.set("users.admin.role", "admin");
        tree.set("users.admin.keys", key);
        try {
            return tree.toConfig();
        } catch (InvalidConfigException e) {
            throw new IllegalArgumentException(adminKey + ": " + e.getMessage().replaceFirst("^users\\.admin\\.keys\\[0]: ", ""));
        }
    }

    @Override
    public Integer call() throws Exception {
        ClusterConfig cluster = ConfigValidator.validate(withAdminKey(ConfigCodec.readYaml(config)));
        Path caDir = out.resolve("ca");
        if (Files.exists(caDir)) {
            throw new IllegalStateException(out + " already holds a cluster (" + caDir
                    + " exists); remove it or choose another --out: a second CA would lock the nodes out of each other");
        }
        for (Node node : cluster.nodes()) {
            if (Files.exists(out.resolve(node.name()))) {
                throw new IllegalStateException(out.resolve(node.name()) + " exists already; nothing was written");
            }
        }
        CertificateAuthority ca = CertificateAuthority.create(cluster.cluster().name());
        ca.write(caDir);
        String document = adminKey == null ? Files.readString(config) : ConfigCodec.toYaml(cluster);
        for (Node node : cluster.nodes()) {
            Path dir = Files.createDirectories(out.resolve(node.name()));
            ca.issue(node.name(), List.of(node.controlAddress())).write(dir.resolve("tls"));
            Files.writeString(dir.resolve("cluster.yaml"), document);
            Files.writeString(dir.resolve("node.yaml"), """
                    # This node's identity; never replicated. Start it with: tandem run --config <this file>
                    node: %s
                    # the cluster document for the very first start; afterwards the replicated version wins
                    cluster_config: cluster.yaml
                    """.formatted(node.name()));
            System.out.printf("%-12s %-12s %-16s %s%n", node.name(), node.site(), node.controlAddress(), dir.resolve("node.yaml"));
        }
        System.out.println("cluster \"" + cluster.cluster().name() + "\" created; its CA key is " + caDir.resolve(CertificateAuthority.CA_KEY)
                + " (keep it offline: it can admit new nodes)");
        return 0;
    }
}
