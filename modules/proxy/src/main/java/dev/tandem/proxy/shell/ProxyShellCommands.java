package dev.tandem.proxy.shell;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.component.ShellCommand;
import dev.tandem.component.Table;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.Node;
import dev.tandem.config.ProxyPool;
import dev.tandem.config.ProxyRoute;
import dev.tandem.proxy.ProxyComponent;
import dev.tandem.proxy.http.ProxyState;
import dev.tandem.proxy.pool.ActiveChecks;
import dev.tandem.proxy.pool.Backend;
import dev.tandem.proxy.pool.BackendPool;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code show proxy}, {@code proxy drain POOL MEMBER} and {@code proxy undrain POOL MEMBER}. */
public final class ProxyShellCommands {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
    private static final int DEFAULT_WAIT_SECONDS = 60;

    private ProxyShellCommands() {}

    public static List<ShellCommand> of(ProxyComponent proxy) {
        return List.of(new Show(proxy), new Drain(proxy, true), new Drain(proxy, false));
    }

    private record Show(ProxyComponent proxy) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "proxy");
        }

        @Override
        public String help() {
            return "listeners, routes, and each pool member: state, requests in flight, last check, other proxies' view";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (!arguments.isEmpty()) throw new IllegalArgumentException("show proxy takes no arguments");
            ProxyState state = proxy.state();
            String self = proxy.context().local().node();
            Map<String, NodeObservations> observations = proxy.observations();
            List<Map<String, Object>> routes = new ArrayList<>();
            for (ProxyRoute r : state.config().routes()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("route", r.name());
                row.put("hosts", r.hosts().isEmpty() ? "(any)" : String.join(",", r.hosts()));
                row.put("path", r.path());
                row.put("pool", r.pool());
                routes.add(row);
            }
            List<Map<String, Object>> members = new ArrayList<>();
            for (BackendPool pool : state.pools().values()) {
                for (Backend b : pool.members()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("pool", b.pool());
                    row.put("member", b.name());
                    row.put("address", b.member().address());
                    row.put("site", b.site());
                    row.put("weight", b.member().weight());
                    row.put("state", b.member().drained() ? "drained (" + b.state().describe() + ")" : b.state().describe());
                    row.put("in_flight", b.state().inFlight());
                    row.put("served", b.state().served());
                    Instant checked = b.state().lastCheck();
                    row.put("last_check", checked == null ? "-" : TIME.format(checked) + " " + b.state().lastCheckResult());
                    row.put("other_proxies", otherViews(observations, self, ActiveChecks.key(b.pool(), b.name())));
                    members.add(row);
                }
            }
            if (json) {
                Map<String, Object> all = new LinkedHashMap<>();
                all.put("version", state.version());
                all.put("listeners", proxy.listeners());
                all.put("open_connections", proxy.openConnections());
                all.put("routes", routes);
                all.put("members", members);
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(all));
                return;
            }
            List<String> listeners = proxy.listeners();
            if (listeners.isEmpty()) {
                out.println("not proxying on " + self + ": " + (proxy.context().self().isWitness() ? "a witness does not proxy"
                        : state.config().routes().isEmpty() ? "no routes (add one with  set proxy.routes.NAME.pool POOL)" : "see the node's log"));
                return;
            }
            out.println("listening: " + String.join("; ", listeners) + "; " + proxy.openConnections() + " client connection(s) open"
                    + "   (config version " + state.version() + ")");
            out.println();
            Table.print(routes, out);
            if (!members.isEmpty()) {
                out.println();
                Table.print(members, out);
            }
        }

        private static String otherViews(Map<String, NodeObservations> observations, String self, String key) {
            List<String> views = new ArrayList<>();
            observations.forEach((node, o) -> {
                String v = o.values().get(key);
                if (!node.equals(self) && v != null) views.add(node + ": " + v + (o.stale() ? " (stale)" : ""));
            });
            return views.isEmpty() ? "-" : String.join("; ", views);
        }
    }

    /** Drain (stop new requests, wait for those in flight) or undrain a member, cluster-wide, through a commit. */
    private record Drain(ProxyComponent proxy, boolean drain) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("proxy", drain ? "drain" : "undrain");
        }

        @Override
        public String help() {
            return drain
                    ? "POOL MEMBER [--wait SECONDS] stop sending new requests to a member on every proxy; waits (60 s unless set) until none is in flight"
                    : "POOL MEMBER send requests to a drained member again";
        }

        @Override
        public boolean changesState() {
            return true;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            String usage = "usage: proxy " + (drain ? "drain POOL MEMBER [--wait SECONDS]" : "undrain POOL MEMBER");
            List<String> args = new ArrayList<>(arguments);
            int waitSeconds = DEFAULT_WAIT_SECONDS;
            int flag = args.indexOf("--wait");
            if (drain && flag >= 0) {
                if (flag + 1 >= args.size()) throw new IllegalArgumentException(usage);
                try {
                    waitSeconds = Integer.parseInt(args.get(flag + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--wait " + args.get(flag + 1) + ": expected a number of seconds");
                }
                if (waitSeconds < 0) throw new IllegalArgumentException("--wait " + waitSeconds + ": expected 0 or more seconds");
                args.subList(flag, flag + 2).clear();
            }
            if (args.size() != 2) throw new IllegalArgumentException(usage);
            ClusterService cluster = proxy.context().cluster();
            ConfigVersion base = cluster.sync();
            ClusterConfig config = base.config();
            ProxyPool pool = config.proxy().pool(args.get(0)).orElseThrow(() -> new IllegalArgumentException("no pool \"" + args.get(0)
                    + "\" (there are: " + names(config.proxy().pools().stream().map(ProxyPool::name).toList()) + ")"));
            ProxyPool.Member member = pool.members().stream().filter(m -> m.name().equals(args.get(1))).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("pool " + pool.name() + " has no member \"" + args.get(1)
                            + "\" (it has: " + names(pool.members().stream().map(ProxyPool.Member::name).toList()) + ")"));
            String what = "member " + member.name() + " of pool " + pool.name();
            long version = base.version();
            if (member.drained() == drain) {
                out.println(what + (drain ? " is already drained" : " is not drained"));
            } else {
                ClusterConfig next = config.withProxy(config.proxy().withPool(pool.withMember(member.withDrained(drain))));
                try {
                    version = cluster.commit(new CommitRequest(next, base.version(), caller.user(), caller.origin(),
                            "proxy " + (drain ? "drain " : "undrain ") + pool.name() + " " + member.name(), Instant.now())).version();
                } catch (CommitException e) {
                    throw new IllegalStateException("not committed: " + e.getMessage());
                }
                out.println("version " + version + ": " + what + (drain ? " takes no new requests" : " takes requests again"));
            }
            if (drain) awaitIdle(config, pool.name(), member.name(), version, waitSeconds, out);
        }

        /** Waits until every reachable proxy node has applied the drain and has no request to the member in flight. */
        private void awaitIdle(ClusterConfig config, String pool, String member, long version, int waitSeconds, PrintWriter out)
                throws InterruptedException {
            List<String> proxies = config.nodes().stream().filter(n -> !n.isWitness()).map(Node::name).toList();
            long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
            String last = null;
            while (true) {
                List<String> reachable = proxy.context().cluster().membership().reachableNames();
                Map<String, NodeObservations> observations = proxy.observations();
                List<String> busy = new ArrayList<>();
                List<String> idle = new ArrayList<>();
                List<String> unreachable = new ArrayList<>();
                for (String node : proxies) {
                    if (!reachable.contains(node)) {
                        unreachable.add(node);
                        continue;
                    }
                    NodeObservations o = observations.get(node);
                    String report = o == null ? null : o.values().get(ProxyComponent.IN_FLIGHT_PREFIX + pool + "." + member);
                    int count = inFlightAt(report, version);
                    if (count == 0) idle.add(node);
                    else busy.add(node + (count < 0 ? " (no report since the drain yet)" : " " + count));
                }
                String summary = busy.isEmpty() ? "" : "in flight: " + String.join(", ", busy);
                if (busy.isEmpty()) {
                    out.println(pool + "/" + member + " is idle on " + (idle.isEmpty() ? "no reachable proxy" : String.join(", ", idle))
                            + (unreachable.isEmpty() ? "" : "; not counted (unreachable): " + String.join(", ", unreachable))
                            + ": it can be stopped");
                    out.flush();
                    return;
                }
                if (!summary.equals(last)) {
                    out.println(summary);
                    out.flush();
                    last = summary;
                }
                if (System.nanoTime() - deadline > 0) {
                    out.println("still " + summary + " after " + waitSeconds + " s; the member stays drained (`show proxy` shows the count)");
                    return;
                }
                Thread.sleep(250);
            }
        }

        /** The count in a {@code COUNT@VERSION} report made at or after {@code version}; -1 if there is none yet. */
        private static int inFlightAt(String report, long version) {
            if (report == null) return -1;
            int at = report.indexOf('@');
            try {
                if (at < 0 || Long.parseLong(report.substring(at + 1)) < version) return -1;
                return Integer.parseInt(report.substring(0, at));
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        private static String names(List<String> names) {
            return names.isEmpty() ? "none" : String.join(", ", names);
        }
    }
}
