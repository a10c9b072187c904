package dev.tandem.dns.shell;

import dev.tandem.component.ShellCommand;
import dev.tandem.component.Table;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.DnsPool;
import dev.tandem.dns.DnsComponent;
import dev.tandem.dns.health.PoolAnswers;
import dev.tandem.dns.server.ServedZone;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code show dns zones} and {@code show dns pool [NAME]}. */
public final class DnsShellCommands {
    private DnsShellCommands() {}

    public static List<ShellCommand> of(DnsComponent dns) {
        return List.of(new Zones(dns), new Pool(dns));
    }

    private record Zones(DnsComponent dns) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "dns", "zones");
        }

        @Override
        public String help() {
            return "the zones this node serves: serial, records, who may transfer and update them";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            if (!arguments.isEmpty()) throw new IllegalArgumentException("show dns zones takes no arguments");
            List<ServedZone> zones = new ArrayList<>(dns.state().zones().values());
            zones.sort(Comparator.comparing(z -> z.config().name()));
            List<Map<String, Object>> rows = new ArrayList<>();
            for (ServedZone z : zones) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("zone", z.config().name());
                row.put("serial", z.snapshot().serial());
                row.put("records", z.snapshot().recordCount());
                row.put("transfer", describe(z.config().transfer().allow(), z.config().transfer().keys()));
                row.put("update_keys", z.config().updateKeys().isEmpty() ? "-" : String.join(",", z.config().updateKeys()));
                row.put("also_notify", z.config().alsoNotify().isEmpty() ? "-" : String.join(",", z.config().alsoNotify()));
                rows.add(row);
            }
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
                return;
            }
            out.println("listening: " + dns.listening().map(a -> a.getAddress().getHostAddress() + " port " + a.getPort() + " (udp, tcp)")
                    .orElse("no (see the node's log)"));
            if (rows.isEmpty()) {
                out.println("no zones: add one with  set dns.zones.NAME.records.@.ns ns1  in configure mode");
                return;
            }
            Table.print(rows, out);
        }

        private static String describe(List<String> allow, List<String> keys) {
            List<String> parts = new ArrayList<>(allow);
            keys.forEach(k -> parts.add("key " + k));
            return parts.isEmpty() ? "refused" : String.join(",", parts);
        }
    }

    private record Pool(DnsComponent dns) implements ShellCommand {
        @Override
        public List<String> words() {
            return List.of("show", "dns", "pool");
        }

        @Override
        public String help() {
            return "[NAME] failover pools: each member, whether it is up, and what each checking node saw";
        }

        @Override
        public boolean changesState() {
            return false;
        }

        @Override
        public void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception {
            ClusterConfig config = dns.config().orElseThrow(() -> new IllegalStateException("DNS has not applied a config yet"));
            List<DnsPool> pools = config.dns().pools();
            if (arguments.size() > 1) throw new IllegalArgumentException("usage: show dns pool [NAME]");
            if (arguments.size() == 1) {
                String name = arguments.get(0);
                pools = pools.stream().filter(p -> p.name().equals(name)).toList();
                if (pools.isEmpty()) {
                    throw new IllegalArgumentException("no pool \"" + name + "\" (there are: "
                            + (config.dns().pools().isEmpty() ? "none" : String.join(", ", config.dns().pools().stream().map(DnsPool::name).toList())) + ")");
                }
            }
            var observations = dns.observations();
            List<Map<String, Object>> rows = new ArrayList<>();
            Map<String, Object> answers = new LinkedHashMap<>();
            for (DnsPool pool : pools) {
                List<PoolAnswers.MemberView> views = PoolAnswers.views(pool, observations);
                answers.put(pool.name(), PoolAnswers.answer(pool, views).stream().map(a -> a.getHostAddress()).toList());
                for (PoolAnswers.MemberView v : views) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("pool", pool.name());
                    row.put("member", v.member().name());
                    row.put("address", v.member().address());
                    row.put("site", v.member().site() == null ? "-" : v.member().site());
                    row.put("priority", v.member().priority());
                    row.put("weight", v.member().weight());
                    row.put("state", v.votes().isEmpty() ? "unknown (up)" : v.up() ? "up" : "down");
                    row.put("checkers", v.votes().isEmpty() ? "no reports yet" : String.join("; ", v.votes().entrySet().stream()
                            .map(e -> e.getKey() + ": " + e.getValue()).toList()));
                    rows.add(row);
                }
            }
            if (json) {
                out.println(ConfigCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("members", rows, "answers", answers)));
                return;
            }
            if (rows.isEmpty()) {
                out.println("no pools");
                return;
            }
            Table.print(rows, out);
            answers.forEach((pool, addresses) -> out.println("pool " + pool + " answers: " + addresses));
        }
    }
}
