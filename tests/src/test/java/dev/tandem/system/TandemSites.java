package dev.tandem.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Tandem cluster of real {@code ./tandem run} processes, one node per site of some {@link Hosts}:
 * made with {@code ./tandem init}, driven with {@code ./tandem config}, watched through each node's
 * {@code /status} (fetched with curl from inside the node's own namespace).
 */
final class TandemSites implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> ENV = Map.of("TANDEM_NO_BUILD", "1");

    private final Hosts lab;
    private final int adminPort;
    private final Path work;
    private final Map<String, String> siteOfNode = new LinkedHashMap<>();
    private final List<Process> processes = new ArrayList<>();
    private final Map<String, Process> running = new LinkedHashMap<>();

    /** @param nodes node name → site name; the last node is a witness */
    TandemSites(Hosts lab, Path work, Map<String, String> nodes) throws IOException {
        this(lab, work, nodes, 7800, "", null);
    }

    /**
     * @param firstPort the control port; the status and SSH ports are the next two
     * @param extraYaml appended to the document (e.g. users)
     * @param adminKey if not null, {@code init --admin-key}
     */
    TandemSites(Hosts lab, Path work, Map<String, String> nodes, int firstPort, String extraYaml, Path adminKey)
            throws IOException {
        this.lab = lab;
        this.adminPort = firstPort == 7800 ? 9000 : firstPort + 1;
        this.work = work;
        siteOfNode.putAll(nodes);
        StringBuilder doc = new StringBuilder("""
                schema_version: 1
                cluster:
                  name: system
                  failure_detection: {timeout: 3s, interval: 1s, verify: 1500ms}
                  control_port: %d
                  admin_port: %d
                  ssh_port: %d
                sites:
                """.formatted(firstPort, adminPort, sshPort(firstPort)));
        nodes.values().stream().distinct().forEach(site -> doc.append("  - name: ").append(site).append('\n'));
        doc.append("nodes:\n");
        List<String> names = new ArrayList<>(nodes.keySet());
        for (String node : names) {
            String role = node.equals(names.get(names.size() - 1)) ? "witness" : "services";
            doc.append("  - {name: %s, site: %s, control_address: %s, roles: [%s]}\n"
                    .formatted(node, nodes.get(node), lab.address(nodes.get(node)), role));
        }
        doc.append(extraYaml);
        Files.createDirectories(work);
        Files.writeString(work.resolve("cluster.yaml"), doc);
        List<String> init = new ArrayList<>(List.of("init", "--config", work.resolve("cluster.yaml").toString(),
                "--out", work.resolve("nodes").toString()));
        if (adminKey != null) init.addAll(List.of("--admin-key", adminKey.toString()));
        Result made = tandem(init.toArray(String[]::new));
        if (made.exit() != 0) throw new IOException("tandem init failed: " + made.err());
    }

    static int sshPort(int firstPort) {
        return firstPort == 7800 ? 2222 : firstPort + 2;
    }

    String address(String node) {
        return lab.address(siteOfNode.get(node));
    }

    Path hostKey(String node) {
        return work.resolve("nodes").resolve(node).resolve("ssh/host_ed25519.pub");
    }

    void start(String node) throws IOException {
        Process process = lab.start(siteOfNode.get(node),
                List.of(ROOT.resolve("tandem").toString(), "run", "--config", nodeYaml(node).toString()),
                log(node), ENV);
        processes.add(process);
        running.put(node, process);
    }

    /** Kills the node hard (SIGKILL to its PID only), as a crash would; {@link #start} brings it back. */
    void kill(String node) {
        Process process = running.remove(node);
        if (process != null) lab.kill(process);
    }

    /**
     * The command line that runs {@code dev.tandem.appliance.Tandem ARGS} from the built appliance
     * (its jar and lib/), as {@code ./tandem} does, for commands the script does not wrap (e.g. backend).
     */
    static List<String> applianceCommand(String... args) {
        Path app = ROOT.resolve("appliance/target");
        List<String> command = new ArrayList<>(List.of("java", "-Xmx32m", "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true",
                "-cp", app.resolve("lib") + "/*:" + app.resolve("tandem-appliance.jar"), "dev.tandem.appliance.Tandem"));
        command.addAll(List.of(args));
        return command;
    }

    void startAll() throws IOException {
        for (String node : siteOfNode.keySet()) start(node);
    }

    String site(String node) {
        return siteOfNode.get(node);
    }

    List<String> nodes() {
        return List.copyOf(siteOfNode.keySet());
    }

    Path nodeYaml(String node) {
        return work.resolve("nodes").resolve(node).resolve("node.yaml");
    }

    Path log(String node) {
        return work.resolve(node + ".log");
    }

    /** The node's /status document, or null if it does not answer. */
    JsonNode status(String node) {
        String site = siteOfNode.get(node);
        try {
            String body = lab.exec(site, Duration.ofSeconds(10), "curl", "-sf", "--max-time", "3",
                    "http://" + lab.address(site) + ":" + adminPort + "/status");
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** Runs {@code ./tandem ARGS} on the host (the local admin socket is a file: no namespace needed). */
    Result tandem(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("tandem").toString()));
        command.addAll(List.of(args));
        ProcessRun.Result r = ProcessRun.run(command, ENV, Duration.ofSeconds(120));
        return new Result(r.exit(), r.out(), r.err());
    }

    record Result(int exit, String out, String err) {}

    /** The last lines of every node's log, for a failure message. */
    String logTails() {
        StringBuilder out = new StringBuilder();
        for (String node : siteOfNode.keySet()) {
            out.append("\n--- ").append(node).append(" (").append(log(node)).append(") ---\n");
            try {
                List<String> lines = Files.readAllLines(log(node));
                lines.subList(Math.max(0, lines.size() - 25), lines.size()).forEach(l -> out.append(l).append('\n'));
            } catch (IOException e) {
                out.append("(no log: ").append(e.getMessage()).append(")\n");
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        processes.forEach(lab::kill);
    }
}
