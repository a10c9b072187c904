package dev.tandem.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.cluster.VolumeCommits;
import dev.tandem.component.ShellCommand;
import dev.tandem.component.Table;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.Volume;
import java.io.PrintWriter;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code show failover}, {@code show failover history}, {@code failover switchover} and {@code failover promote --force}. */
final class FailoverShellCommands {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private FailoverShellCommands() {}

    static List<ShellCommand> of(FailoverComponent failover) {
        return List.of(new Show(failover), new History(failover), new Switchover(failover), new Promote(failover));
    }

    private static ClusterService cluster(FailoverComponent f) {
        return f.context().cluster();
    }

    private static Volume volume(ClusterConfig config, String name) {
        return config.volume(name).orElseThrow(() -> new IllegalArgumentException("no volume \"" + name + "\" (there are: "
                + (config.volumes().isEmpty() ? "none" : String.join(", ", config.volumes().stream().map(Volume::name).toList())) + ")"));
    }

    private static Optional<JsonNode> observed(Map<String, NodeObservations> all, String node, String key) {
        NodeObservations o = all.get(node);
        String raw = o == null || o.stale() ? null : o.values().get(key);
        if (raw == null) return Optional.empty();
        try {
            return Optional.of(JSON.readTree(raw));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private record Show(FailoverComponent failover) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "failover");
        }

        @Override
        public String help() {
            return "each volume: primary, epoch, what the controller sees, the group on the primary";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (!arguments.isEmpty()) throw new IllegalArgumentException("show failover takes no arguments");
            ClusterService cluster = cluster(failover);
            Membership m = cluster.membership();
            var all = cluster.observed().all();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Volume v : cluster.running().config().volumes()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("volume", v.name());
                row.put("primary", v.effectivePrimary());
                row.put("epoch", v.epoch());
                row.put("outdated", v.outdated().isEmpty() ? "-" : String.join(",", v.outdated()));
                row.put("automatic", v.failover().automatic() ? "after " + v.failover().deadAfter().toMillis() + " ms (lease "
                        + v.failover().lease().toMillis() + " ms)" : "off");
                row.put("group", observed(all, v.effectivePrimary(), FailoverComponent.STATUS_PREFIX + v.name())
                        .map(s -> s.path("group").asText() + " (epoch " + s.path("epoch").asText() + ")").orElse("-"));
                row.put("controller", m.leaderName().map(l -> l.equals(cluster.nodeName()) ? failover.controllerView(v)
                        : "decided by the leader, " + l).orElse("no leader: nothing is decided"));
                rows.add(row);
            }
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return;
            }
            out.println("quorum: " + (m.quorum() ? "yes" : "NO: no failover can be decided on this side")
                    + "; leader: " + m.leaderName().orElse("none"));
            if (rows.isEmpty()) {
                out.println("no volumes");
                return;
            }
            Table.print(rows, out);
        }
    }

    private record History(FailoverComponent failover) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "failover", "history");
        }

        @Override
        public String help() {
            return "every change of primary: when, who decided, what was seen, and how long each step took";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (!arguments.isEmpty()) throw new IllegalArgumentException("show failover history takes no arguments");
            var all = cluster(failover).observed().all();
            List<Map<String, Object>> rows = new ArrayList<>();
            for (FailoverHistory.Decision d : FailoverHistory.decisions(failover.context().store())) {
                Map<String, Object> row = new LinkedHashMap<>();
                ConfigVersion v = d.version();
                row.put("at", TIME.format(v.committedAt()));
                row.put("volume", d.volume());
                row.put("epoch", d.epoch());
                row.put("change", d.from() + " -> " + d.to());
                row.put("by", v.author() + "@" + v.origin() + " (v" + v.version() + ")");
                row.put("steps", observed(all, d.to(), FailoverComponent.STATUS_PREFIX + d.volume())
                        .filter(s -> s.path("epoch").asLong() == d.epoch())
                        .map(s -> s.path("steps").asText() + "; group " + s.path("group").asText()).orElse("-"));
                row.put("why", v.comment() == null ? "-" : v.comment());
                rows.add(row);
            }
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return;
            }
            if (rows.isEmpty()) {
                out.println("no volumes, no failovers");
                return;
            }
            Table.print(rows, out);
        }
    }

    private record Switchover(FailoverComponent failover) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("failover", "switchover");
        }

        @Override
        public String help() {
            return "VOLUME to NODE  planned move of the primary to an in-sync replica: no acknowledged write is lost";
        }

        @Override
        public boolean changesState() {
            return true;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (arguments.size() != 3 || !arguments.get(1).equals("to")) {
                throw new IllegalArgumentException("usage: failover switchover VOLUME to NODE");
            }
            String name = arguments.get(0);
            String target = arguments.get(2);
            ClusterService cluster = cluster(failover);
            Volume v = volume(cluster.sync().config(), name);
            if (v.replica(target).isEmpty()) {
                throw new IllegalArgumentException("node " + target + " holds no replica of " + name + " (replicas: "
                        + String.join(", ", v.replicaNodes()) + ")");
            }
            if (target.equals(v.effectivePrimary())) throw new IllegalArgumentException(target + " is already the primary of " + name);
            String unfit = inSync(cluster, v, target);
            if (unfit != null) throw new IllegalArgumentException("cannot switch " + name + " over to " + target + ": " + unfit);
            String by = " by " + caller.user() + " (from " + caller.origin() + ")";
            // 1: the primary stops taking writes and waits until its peers have everything it sent
            Optional<ConfigVersion> drain = VolumeCommits.update(cluster, name, current -> {
                if (!current.epoch().equals(v.epoch()) || current.outdated().contains(target)) return Optional.empty();
                return Optional.of(current.withHandoverTo(target));
            }, caller.user(), "failover switchover " + name + " to " + target + by + ": " + v.effectivePrimary() + " drains");
            if (drain.isEmpty()) throw new IllegalStateException("volume " + name + " changed meanwhile (a failover, or " + target + " fell behind); nothing was done");
            String drained = awaitDrained(cluster, v, target);
            if (drained != null) {
                VolumeCommits.update(cluster, name, current -> target.equals(current.handoverTo())
                        ? Optional.of(current.withHandoverTo(null)) : Optional.empty(), caller.user(),
                        "failover switchover " + name + " to " + target + " called off: " + drained);
                throw new IllegalStateException("switchover called off, " + v.effectivePrimary() + " is primary again: " + drained);
            }
            // 2: the new primary, under the next epoch
            Optional<ConfigVersion> done = VolumeCommits.update(cluster, name, current -> {
                if (!current.epoch().equals(v.epoch()) || !target.equals(current.handoverTo())) return Optional.empty();
                return Optional.of(current.withPrimary(target, current.epoch() + 1));
            }, caller.user(), "failover switchover " + name + " to " + target + by);
            if (done.isEmpty()) throw new IllegalStateException("volume " + name + " changed during the switchover; see show failover history");
            out.println("volume " + name + ": " + target + " is primary under epoch " + (v.epoch() + 1) + " (config version "
                    + done.get().version() + "); " + v.effectivePrimary() + " had drained to it, stops its group and becomes a secondary");
        }

        /** Null once the primary reports it has drained to {@code target}; otherwise why not, after 15 s. */
        private static String awaitDrained(ClusterService cluster, Volume v, String target) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 15_000;
            String last = "no report from " + v.effectivePrimary();
            while (System.currentTimeMillis() < deadline) {
                Optional<JsonNode> status = observed(cluster.observed().all(), v.effectivePrimary(), "volume." + v.name());
                if (status.isPresent()) {
                    last = status.get().path("problem").asText("still taking writes");
                    if (last.equals("handing over to " + target + ": drained")) return null;
                    if (last.contains("not drained")) return last;
                }
                Thread.sleep(100);
            }
            return last;
        }

        /** Null if the current primary reports {@code target} in sync; otherwise why not. */
        private static String inSync(ClusterService cluster, Volume v, String target) {
            if (v.outdated().contains(target)) return target + " is outdated (it must resync first)";
            Optional<JsonNode> status = observed(cluster.observed().all(), v.effectivePrimary(), "volume." + v.name());
            if (status.isEmpty()) return "the primary " + v.effectivePrimary() + " has not reported (unreachable? use failover promote --force)";
            String state = status.get().path("peers").path(target).path("state").asText("unknown");
            if (!state.equals("in sync")) return "the primary reports " + target + " as " + state;
            return null;
        }
    }

    private record Promote(FailoverComponent failover) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("failover", "promote");
        }

        @Override
        public String help() {
            return "VOLUME [NODE] --force  make NODE (default: this node) primary without the usual checks: can lose writes";
        }

        @Override
        public boolean changesState() {
            return true;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            List<String> args = new ArrayList<>(arguments);
            boolean force = args.remove("--force");
            if (args.isEmpty() || args.size() > 2) throw new IllegalArgumentException("usage: failover promote VOLUME [NODE] --force");
            ClusterService cluster = cluster(failover);
            String name = args.get(0);
            String target = args.size() == 2 ? args.get(1) : cluster.nodeName();
            Volume v = volume(cluster.sync().config(), name);
            if (v.replica(target).isEmpty()) throw new IllegalArgumentException("node " + target + " holds no replica of " + name);
            if (target.equals(v.effectivePrimary())) throw new IllegalArgumentException(target + " is already the primary of " + name);
            List<String> risks = new ArrayList<>();
            if (v.outdated().contains(target)) {
                risks.add(target + " is OUTDATED: every write " + v.effectivePrimary() + " acknowledged since " + target
                        + " fell behind is missing from it and will be lost");
            }
            if (FailoverPlanner.reachable(cluster.membership(), v.effectivePrimary())) {
                risks.add("the primary " + v.effectivePrimary() + " is reachable from here: prefer  failover switchover " + name + " to " + target);
            } else {
                risks.add("if " + v.effectivePrimary() + " is still running cut off and writing, the two sides diverge; neither is resynced "
                        + "until an operator decides");
            }
            if (!force) {
                throw new IllegalArgumentException("failover promote " + name + " " + target + " needs --force: " + String.join("; ", risks));
            }
            Optional<ConfigVersion> done = VolumeCommits.update(cluster, name, current -> {
                if (!current.epoch().equals(v.epoch())) return Optional.empty();
                return Optional.of(current.withPrimary(target, current.epoch() + 1)
                        .withOutdated(current.outdated().stream().filter(n -> !n.equals(target)).toList()));
            }, caller.user(), "failover promote " + name + " " + target + " --force by " + caller.user() + " (from "
                    + caller.origin() + "): " + String.join("; ", risks));
            if (done.isEmpty()) throw new IllegalStateException("volume " + name + " changed meanwhile; nothing was done");
            for (String r : risks) out.println("warning: " + r);
            out.println("volume " + name + ": " + target + " is primary under epoch " + (v.epoch() + 1) + " (config version "
                    + done.get().version() + ")");
        }
    }
}
