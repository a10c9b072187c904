package dev.tandem.appliance;

import dev.tandem.config.ConfigCodec;
import dev.tandem.web.StatusReport;
import dev.tandem.web.StatusReport.MemberStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", description = "Show members, leader and each node's applied config version, as a node sees them.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--node", description = "ADDRESS[:PORT] of a node's status endpoint; repeat to try several in turn (default 127.0.0.1:9000)")
    List<String> nodes = new ArrayList<>(List.of("127.0.0.1"));

    @Option(names = "--json", description = "print the node's JSON document as it is")
    boolean json;

    @Option(names = "--wait", description = "wait up to SECONDS until there is a leader and every member is reachable on one applied version")
    int waitSeconds;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Override
    public Integer call() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(waitSeconds).toNanos();
        while (true) {
            Fetched fetched = fetchFirstAnswering();
            boolean settled = fetched.report != null && settled(fetched.report);
            if (waitSeconds == 0 || settled || System.nanoTime() > deadline) {
                if (fetched.report == null) {
                    System.err.println("tandem: no status endpoint answered: " + String.join("; ", fetched.errors));
                    return 1;
                }
                System.out.print(json ? fetched.body : render(fetched.report));
                return waitSeconds == 0 || settled ? 0 : 1;
            }
            Thread.sleep(500);
        }
    }

    private record Fetched(StatusReport report, String body, List<String> errors) {}

    private Fetched fetchFirstAnswering() {
        List<String> errors = new ArrayList<>();
        for (String node : nodes) {
            URI uri = URI.create("http://" + (node.contains(":") ? node : node + ":9000") + "/status");
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    errors.add(uri + ": HTTP " + response.statusCode());
                    continue;
                }
                return new Fetched(ConfigCodec.json().readValue(response.body(), StatusReport.class), response.body(), errors);
            } catch (Exception e) {
                errors.add(uri + ": " + (e instanceof java.net.ConnectException
                        ? "connection refused (is a node running there?)"
                        : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
        }
        return new Fetched(null, null, errors);
    }

    static boolean settled(StatusReport r) {
        return r.leader() != null && r.appliedVersion() > 0
                && r.members().stream().allMatch(m -> m.reachable() && Objects.equals(m.appliedVersion(), r.appliedVersion()));
    }

    static String render(StatusReport r) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("cluster %s, as seen by %s (%s): applied version %d, leader %s, %s%n%n",
                r.cluster(), r.node(), r.site(), r.appliedVersion(), r.leader() == null ? "none" : r.leader(),
                r.quorum() ? "quorum" : "NO QUORUM (commits are refused on this side)"));
        out.append(String.format("%-10s %-10s %-9s %-10s %s%n", "NODE", "SITE", "ROLE", "REACHABLE", "VERSION"));
        for (MemberStatus m : r.members()) {
            String version = m.appliedVersion() == null ? "-" : m.appliedVersion() + (m.stale() ? " (last seen)" : "");
            out.append(String.format("%-10s %-10s %-9s %-10s %s%n", m.name() + (m.name().equals(r.leader()) ? "*" : ""),
                    m.site(), m.role(), m.reachable() ? "yes" : "no", version));
        }
        return out.toString();
    }
}
