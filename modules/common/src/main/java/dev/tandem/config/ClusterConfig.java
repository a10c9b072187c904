package dev.tandem.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole cluster's desired state: one document, replicated through raft, applied by every node
 * in the same order. Everything node-local (identity, keys, data directory) lives in {@link NodeLocalConfig}.
 *
 * <p>Records accept missing values as null so that {@link ConfigValidator} can report every problem
 * with its path instead of the first constructor failing.
 */
public record ClusterConfig(
        Integer schemaVersion,
        ClusterSettings cluster,
        List<Site> sites,
        List<Node> nodes,
        List<User> users,
        DnsConfig dns,
        ProxyConfig proxy,
        VpnConfig vpn,
        VolumesConfig volumes) {

    public static final int SCHEMA_VERSION = 1;

    public ClusterConfig {
        sites = sites == null ? List.of() : List.copyOf(sites);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        users = users == null ? List.of() : List.copyOf(users);
        cluster = cluster == null ? new ClusterSettings(null, null, null, null, null) : cluster;
        dns = dns == null ? new DnsConfig() : dns;
        proxy = proxy == null ? new ProxyConfig() : proxy;
        vpn = vpn == null ? new VpnConfig() : vpn;
        volumes = volumes == null ? new VolumesConfig() : volumes;
    }

    public Optional<Node> node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    public Optional<Site> site(String name) {
        return sites.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    public ClusterConfig withProxy(ProxyConfig next) {
        return new ClusterConfig(schemaVersion, cluster, sites, nodes, users, dns, next, vpn, volumes);
    }

    /** Every node votes in raft, witnesses included: that is what a witness is for. */
    public List<String> voterNames() {
        return nodes.stream().map(Node::name).toList();
    }
}
