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
        List<Volume> volumes) {

    public static final int SCHEMA_VERSION = 1;

    public ClusterConfig {
        sites = sites == null ? List.of() : List.copyOf(sites);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        users = users == null ? List.of() : List.copyOf(users);
        cluster = cluster == null ? new ClusterSettings(null, null, null, null, null) : cluster;
        dns = dns == null ? new DnsConfig() : dns;
        proxy = proxy == null ? new ProxyConfig() : proxy;
        vpn = vpn == null ? new VpnConfig() : vpn;
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
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

    public Optional<Volume> volume(String name) {
        return volumes.stream().filter(v -> v.name().equals(name)).findFirst();
    }

    public ClusterConfig withVolume(Volume volume) {
        List<Volume> next = volumes.stream().map(v -> v.name().equals(volume.name()) ? volume : v).toList();
        return new ClusterConfig(schemaVersion, cluster, sites, nodes, users, dns, proxy, vpn, next);
    }

    /**
     * Whether a pool member tied to a volume may serve: only at the site of the volume's primary. A
     * member tied to no volume, or to one this document lacks, always may.
     */
    public boolean followsPrimary(String volumeName, String memberSite) {
        if (volumeName == null) return true;
        return volume(volumeName)
                .flatMap(v -> node(v.effectivePrimary()))
                .map(primary -> primary.site().equals(memberSite))
                .orElse(true);
    }

    /** Every node votes in raft, witnesses included: that is what a witness is for. */
    public List<String> voterNames() {
        return nodes.stream().map(Node::name).toList();
    }
}
