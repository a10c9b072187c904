package dev.tandem.web;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.config.Node;
import java.util.List;
import java.util.Map;

/** The document {@code GET /status} returns: this node, who it reaches, the leader, and each node's applied version. */
public record StatusReport(String node, String site, String cluster, long appliedVersion, String leader, boolean quorum,
        List<MemberStatus> members) {

    /** A member as this node sees it; {@code appliedVersion} is what the member last published (null if never heard). */
    public record MemberStatus(String name, String site, String role, boolean reachable, Long appliedVersion, boolean stale) {}

    public static StatusReport of(ClusterService cluster, String observedVersionKey) {
        Membership membership = cluster.membership();
        Map<String, NodeObservations> observed = cluster.observed().all();
        List<MemberStatus> members = membership.members().stream().map(m -> memberStatus(m, observed.get(m.name()), observedVersionKey)).toList();
        String self = cluster.nodeName();
        String site = cluster.running().config().node(self).map(Node::site).orElse(null);
        return new StatusReport(self, site, cluster.running().config().cluster().name(), cluster.running().version(),
                membership.leader(), membership.quorum(), members);
    }

    private static MemberStatus memberStatus(Member m, NodeObservations o, String key) {
        String version = o == null ? null : o.values().get(key);
        return new MemberStatus(m.name(), m.site(), m.role(), m.reachable(),
                version == null ? null : Long.valueOf(version), o != null && o.stale());
    }
}
