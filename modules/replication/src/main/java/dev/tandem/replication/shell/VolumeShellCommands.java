package dev.tandem.replication.shell;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.component.ShellCommand;
import dev.tandem.component.Table;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.Volume;
import dev.tandem.replication.ReplicationComponent;
import dev.tandem.replication.volume.Replica;
import dev.tandem.replication.volume.ReplicaStatus;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code show volumes} and {@code volume verify NAME}. */
public final class VolumeShellCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ReplicationComponent replication;

    public VolumeShellCommands(ReplicationComponent replication) {
        this.replication = replication;
    }

    public List<ShellCommand> commands() {
        return List.of(new Show(), new Verify(), new Discard());
    }

    private ClusterConfig config() {
        return replication.context().cluster().running().config();
    }

    private final class Show implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "volumes");
        }

        @Override
        public String help() {
            return "each replica: role, epoch, disk state, peers in sync or resyncing (percent, bytes behind)";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (!arguments.isEmpty()) throw new IllegalArgumentException("show volumes takes no arguments");
            ClusterConfig config = config();
            Map<String, NodeObservations> observed = replication.context().cluster().observed().all();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Volume v : config.volumes()) {
                for (Volume.Replica r : v.replicas()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("volume", v.name());
                    row.put("node", r.name());
                    row.put("site", config.node(r.name()).map(n -> n.site()).orElse("?"));
                    row.put("decided", r.name().equals(v.effectivePrimary()) ? "primary (epoch " + v.epoch() + ")"
                            : v.outdated().contains(r.name()) ? "secondary, outdated" : "secondary");
                    NodeObservations node = observed.get(r.name());
                    String raw = node == null ? null : node.values().get(ReplicationComponent.STATUS_PREFIX + v.name());
                    if (raw == null) {
                        row.put("role", node == null ? "not heard from" : "not open");
                        row.put("epoch", "-");
                        row.put("disk", "-");
                        row.put("peers", "-");
                    } else {
                        ReplicaStatus s = JSON.readValue(raw, ReplicaStatus.class);
                        row.put("role", s.role() + (node.stale() ? " (unreachable: last known)" : ""));
                        row.put("epoch", s.epoch());
                        row.put("disk", s.disk());
                        row.put("peers", peers(s));
                        if (s.problem() != null) row.put("problem", s.problem());
                    }
                    rows.add(row);
                }
            }
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return;
            }
            if (rows.isEmpty()) {
                out.println("no volumes (add one with  set volumes.NAME.size_mib 64  and  set volumes.NAME.replicas.NODE)");
                return;
            }
            List<Map<String, Object>> problems = new ArrayList<>();
            for (Map<String, Object> row : rows) {
                Object problem = row.remove("problem");
                if (problem != null) problems.add(Map.of("volume", row.get("volume"), "node", row.get("node"), "problem", problem));
            }
            Table.print(rows, out);
            if (!problems.isEmpty()) {
                out.println();
                Table.print(problems, out);
            }
        }

        private String peers(ReplicaStatus s) {
            if (!s.role().equals("primary")) return s.primary() == null ? "-" : "from " + s.primary();
            List<String> parts = new ArrayList<>();
            s.peers().forEach((peer, p) -> {
                String part = peer + ": " + p.state();
                if (p.resyncPercent() != null) part += " " + p.resyncPercent() + "%";
                if (p.outOfSyncBytes() > 0) part += ", " + human(p.outOfSyncBytes()) + " behind";
                parts.add(part);
            });
            return parts.isEmpty() ? "(no peers)" : String.join("; ", parts);
        }
    }

    private final class Verify implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("volume", "verify");
        }

        @Override
        public String help() {
            return "NAME  compare every block with each in-sync replica, online (run on the primary)";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (arguments.size() != 1) throw new IllegalArgumentException("usage: volume verify NAME");
            String name = arguments.get(0);
            Volume v = config().volume(name).orElseThrow(() -> new IllegalArgumentException("no volume \"" + name + "\" (there are: "
                    + (config().volumes().isEmpty() ? "none" : String.join(", ", config().volumes().stream().map(Volume::name).toList())) + ")"));
            Replica replica = replication.replica(name).filter(r -> r.role() == Replica.Role.PRIMARY).orElseThrow(() ->
                    new IllegalArgumentException("volume " + name + " is verified on its primary, " + v.effectivePrimary()
                            + "; this is " + replication.context().local().node()));
            List<Replica.VerifyResult> results = replica.verify();
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(results));
                return;
            }
            for (Replica.VerifyResult r : results) {
                if (r.problem() != null && r.compared() == 0) {
                    out.println(r.peer() + ": " + r.problem());
                    continue;
                }
                out.println(r.peer() + ": " + r.compared() + " blocks compared, " + (r.differing().isEmpty() ? "all identical"
                        : r.differing().size() + (r.differing().size() >= 1000 ? "+" : "") + " differ: blocks " + summary(r.differing()))
                        + (r.problem() == null ? "" : " (" + r.problem() + ")"));
            }
        }

        private String summary(List<Long> blocks) {
            List<String> shown = blocks.stream().limit(20).map(String::valueOf).toList();
            return String.join(", ", shown) + (blocks.size() > 20 ? ", …" : "");
        }
    }

    private final class Discard implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("volume", "discard");
        }

        @Override
        public String help() {
            return "NAME --force  on a secondary after a split brain: throw away THIS node's data of NAME and take a full copy from the primary";
        }

        @Override
        public boolean changesState() {
            return true;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            List<String> args = new ArrayList<>(arguments);
            boolean force = args.remove("--force");
            if (args.size() != 1) throw new IllegalArgumentException("usage: volume discard NAME --force");
            String name = args.get(0);
            String self = replication.context().local().node();
            Replica replica = replication.replica(name).orElseThrow(() -> new IllegalArgumentException(
                    "node " + self + " holds no replica of \"" + name + "\""));
            if (!force) {
                throw new IllegalArgumentException("volume discard " + name + " throws away every write " + self
                        + " has that the primary lacks; add --force to do it");
            }
            replica.discardLocalData();
            replication.context().store().audit(new dev.tandem.store.AuditEntry(java.time.Instant.now(), caller.user(),
                    caller.origin(), "volume.discard", name + " on " + self + ": local data discarded for a full resync"));
            out.println("volume " + name + ": " + self + "'s data is discarded; the primary resyncs all of it (see show volumes)");
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1 << 20) return (bytes >> 10) + " KiB";
        if (bytes < 1L << 30) return String.format("%.1f MiB", bytes / 1048576.0);
        return String.format("%.2f GiB", bytes / 1073741824.0);
    }
}
