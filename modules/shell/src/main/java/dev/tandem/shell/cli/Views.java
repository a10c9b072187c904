package dev.tandem.shell.cli;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Member;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.component.Table;
import dev.tandem.config.ConfigCodec;
import dev.tandem.store.AuditEntry;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** How the operational {@code show} commands print, as text tables or as JSON. */
final class Views {
    /** The observation in which every node publishes its applied config version (see ClusterNode). */
    static final String OBSERVED_VERSION = "config.version";

    private Views() {}

    record MemberView(String name, String site, String role, boolean reachable, boolean leader, Long appliedVersion) {}

    record ClusterView(String cluster, String node, String leader, boolean quorum, long runningVersion, List<MemberView> members) {}

    static void cluster(ClusterService cluster, boolean json, PrintWriter out) {
        Membership m = cluster.membership();
        Map<String, NodeObservations> observed = cluster.observed().all();
        List<MemberView> members = m.members().stream().map(member -> memberView(member, m, observed)).toList();
        ConfigVersion running = cluster.running();
        ClusterView view = new ClusterView(running.config().cluster().name(), cluster.nodeName(), m.leader(), m.quorum(),
                running.version(), members);
        if (json) {
            out.println(ConfigCodec.toJson(view));
            return;
        }
        out.printf("cluster %s: leader %s, %s; this node %s runs version %d%n", view.cluster(),
                m.leader() == null ? "none" : m.leader(), m.quorum() ? "quorum" : "NO QUORUM (commits are refused here)",
                cluster.nodeName(), running.version());
        Table table = new Table("NODE", "SITE", "ROLE", "REACHABLE", "VERSION");
        for (MemberView v : members) {
            table.row(v.name() + (v.leader() ? "*" : ""), v.site(), v.role(), v.reachable() ? "yes" : "no", v.appliedVersion());
        }
        table.print(out);
    }

    private static MemberView memberView(Member member, Membership m, Map<String, NodeObservations> observed) {
        NodeObservations o = observed.get(member.name());
        String version = o == null ? null : o.values().get(OBSERVED_VERSION);
        return new MemberView(member.name(), member.site(), member.role(), member.reachable(), member.name().equals(m.leader()),
                version == null ? null : Long.valueOf(version));
    }

    record VersionView(String software, String node, String site, long runningVersion) {}

    static void version(ClusterService cluster, boolean json, PrintWriter out) {
        String site = cluster.running().config().node(cluster.nodeName()).map(n -> n.site()).orElse(null);
        VersionView view = new VersionView("tandem 0.1.0", cluster.nodeName(), site, cluster.running().version());
        if (json) out.println(ConfigCodec.toJson(view));
        else out.printf("%s on node %s (%s), running config version %d%n", view.software(), view.node(), site, view.runningVersion());
    }

    record HistoryView(long version, Instant committedAt, String author, String origin, String comment) {}

    static void history(List<ConfigVersion> versions, boolean json, PrintWriter out) {
        List<HistoryView> rows = versions.stream()
                .map(v -> new HistoryView(v.version(), v.committedAt(), v.author(), v.origin(), v.comment()))
                .toList();
        if (json) {
            out.println(ConfigCodec.toJson(rows));
            return;
        }
        Table table = new Table("VERSION", "WHEN", "WHO", "FROM", "COMMENT");
        rows.forEach(r -> table.row(r.version(), CliSession.TIME.format(r.committedAt()), r.author(), r.origin(), r.comment()));
        table.print(out);
    }

    static void audit(List<AuditEntry> entries, boolean json, PrintWriter out) {
        if (json) {
            out.println(ConfigCodec.toJson(entries));
            return;
        }
        Table table = new Table("WHEN", "WHO", "FROM", "ACTION", "DETAIL");
        entries.forEach(e -> table.row(CliSession.TIME.format(e.at()), e.who(), e.origin(), e.action(), e.detail()));
        table.print(out);
    }
}
