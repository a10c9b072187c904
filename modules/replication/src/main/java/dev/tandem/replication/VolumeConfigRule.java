package dev.tandem.replication;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.DnsPool;
import dev.tandem.config.Node;
import dev.tandem.config.ProxyPool;
import dev.tandem.config.Volume;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** The {@code volumes} section's checks, and the one rule about change: an epoch only grows. */
public final class VolumeConfigRule implements ConfigRule {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    @Override
    public void check(ClusterConfig config, Errors errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < config.volumes().size(); i++) {
            Volume v = config.volumes().get(i);
            String path = "volumes[" + i + "]";
            if (v.name() == null || !NAME.matcher(v.name()).matches()) {
                errors.add(path + ".name", "a volume needs a name of lower-case letters, digits and dashes");
            } else if (!names.add(v.name())) {
                errors.add(path + ".name", "volume \"" + v.name() + "\" is defined twice");
            }
            checkShape(v, path, errors);
            checkReplicas(config, v, path, errors);
            checkGroup(v, path, errors);
        }
        checkPoolMembers(config, names, errors);
    }

    private static void checkShape(Volume v, String path, Errors errors) {
        if (v.sizeMib() == null || v.sizeMib() <= 0) errors.add(path + ".size_mib", "the size in MiB must be a positive number");
        int bs = v.blockSize();
        if (bs < 512 || bs > (1 << 20) || Integer.bitCount(bs) != 1) {
            errors.add(path + ".block_size", "must be a power of two from 512 to 1048576, not " + bs);
        }
        if (v.epoch() < 1) errors.add(path + ".epoch", "must be at least 1");
        if (v.resyncMibPerSecond() <= 0) errors.add(path + ".resync_mib_per_second", "must be positive");
        Volume.Failover f = v.failover();
        if (f.deadAfter().isNegative() || f.deadAfter().isZero()) errors.add(path + ".failover.dead_after", "must be positive");
        if (f.lease().isNegative() || f.lease().isZero()) {
            errors.add(path + ".failover.lease", "must be positive");
        } else if (f.lease().compareTo(f.deadAfter()) >= 0) {
            // the old primary must have fenced itself before anyone else is promoted
            errors.add(path + ".failover.lease", "must be shorter than failover.dead_after (" + f.deadAfter().toMillis() + "ms)");
        }
    }

    private static void checkReplicas(ClusterConfig config, Volume v, String path, Errors errors) {
        if (v.replicas().isEmpty()) {
            errors.add(path + ".replicas", "a volume needs at least one replica (a node name)");
            return;
        }
        if (v.replicas().size() > 2) {
            // a secondary does not yet track, for a third replica, the blocks it receives while that one is away
            errors.add(path + ".replicas", "this release replicates to one secondary: at most 2 replicas, not " + v.replicas().size());
        }
        Set<String> nodes = new HashSet<>();
        Map<String, String> bySite = new HashMap<>();
        for (int r = 0; r < v.replicas().size(); r++) {
            Volume.Replica replica = v.replicas().get(r);
            String rp = path + ".replicas[" + r + "]";
            Node node = config.node(replica.name()).orElse(null);
            if (node == null) {
                errors.add(rp + ".name", "no node \"" + replica.name() + "\"");
                continue;
            }
            if (node.isWitness()) errors.add(rp + ".name", "node " + node.name() + " is a witness: it holds no data");
            if (!nodes.add(node.name())) errors.add(rp + ".name", "node " + node.name() + " holds this volume twice");
            String other = bySite.putIfAbsent(node.site(), node.name());
            if (other != null && !other.equals(node.name())) {
                errors.add(rp + ".name", "nodes " + other + " and " + node.name() + " are both at " + node.site()
                        + ": replicas must be at different sites, or one site's loss takes both");
            }
            if (replica.device() != null && !replica.device().startsWith("/")) {
                errors.add(rp + ".device", "must be an absolute path such as /dev/vdb");
            }
        }
        String primary = v.effectivePrimary();
        if (!nodes.contains(primary)) errors.add(path + ".primary", "\"" + primary + "\" is not one of the replicas " + nodes);
        if (v.handoverTo() != null && (!nodes.contains(v.handoverTo()) || v.handoverTo().equals(primary))) {
            errors.add(path + ".handover_to", "\"" + v.handoverTo() + "\" is not a secondary of this volume");
        }
        for (String o : v.outdated()) {
            if (!nodes.contains(o)) errors.add(path + ".outdated", "\"" + o + "\" is not one of the replicas " + nodes);
            if (o.equals(primary)) errors.add(path + ".outdated", "the primary " + o + " cannot be outdated");
        }
    }

    private static void checkGroup(Volume v, String path, Errors errors) {
        Volume.Mount mount = v.group().mount();
        if (mount != null) {
            if (mount.device() == null || !mount.device().startsWith("/dev/")) errors.add(path + ".group.mount.device", "needs the NBD device to attach, such as /dev/nbd0");
            if (mount.path() == null || !mount.path().startsWith("/")) errors.add(path + ".group.mount.path", "needs an absolute mount point");
        }
        Volume.Service service = v.group().service();
        if (service != null) {
            boolean unit = service.unit() != null;
            boolean commands = service.start() != null || service.stop() != null;
            if (unit == commands) {
                errors.add(path + ".group.service", "give either a systemd unit or start and stop commands");
            } else if (!unit && (service.start() == null || service.stop() == null)) {
                errors.add(path + ".group.service", "needs both start and stop commands");
            }
        }
    }

    private static void checkPoolMembers(ClusterConfig config, Set<String> volumes, Errors errors) {
        List<DnsPool> dnsPools = config.dns().pools();
        for (int p = 0; p < dnsPools.size(); p++) {
            List<DnsPool.Member> members = dnsPools.get(p).members();
            for (int m = 0; m < members.size(); m++) {
                follows(members.get(m).volume(), members.get(m).site(), "dns.pools[" + p + "].members[" + m + "]", volumes, errors);
            }
        }
        List<ProxyPool> proxyPools = config.proxy().pools();
        for (int p = 0; p < proxyPools.size(); p++) {
            List<ProxyPool.Member> members = proxyPools.get(p).members();
            for (int m = 0; m < members.size(); m++) {
                follows(members.get(m).volume(), members.get(m).site(), "proxy.pools[" + p + "].members[" + m + "]", volumes, errors);
            }
        }
    }

    private static void follows(String volume, String site, String path, Set<String> volumes, Errors errors) {
        if (volume == null) return;
        if (!volumes.contains(volume)) errors.add(path + ".volume", "no volume \"" + volume + "\"");
        if (site == null) errors.add(path + ".site", "a member that follows volume " + volume + " needs a site");
    }

    @Override
    public void checkChange(ClusterConfig running, ClusterConfig next, Errors errors) {
        for (int i = 0; i < next.volumes().size(); i++) {
            Volume after = next.volumes().get(i);
            Volume before = running.volume(after.name()).orElse(null);
            if (before == null) continue;
            String path = "volumes[" + i + "]";
            if (!before.sizeMib().equals(after.sizeMib())) {
                errors.add(path + ".size_mib", "a volume's size cannot change (it is " + before.sizeMib() + " MiB)");
            }
            if (!before.blockSize().equals(after.blockSize())) {
                errors.add(path + ".block_size", "a volume's block size cannot change (it is " + before.blockSize() + ")");
            }
            if (after.epoch() < before.epoch()) {
                errors.add(path + ".epoch", "an epoch never goes back (running is " + before.epoch() + ")");
            } else if (!after.effectivePrimary().equals(before.effectivePrimary()) && after.epoch() <= before.epoch()) {
                errors.add(path + ".primary", "a new primary needs a new epoch: use failover switchover or failover promote");
            }
        }
    }
}
