package dev.tandem.system;

import java.io.File;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
  * Several "sites" on one Linux host for system tests: one network namespace per site, each with
  * {@code eth0} on 10.77.0.0/24, joined by veth links to a bridge in a namespace of its own.
  *
  * <p>The kernel we test on has no netem, so WAN latency comes from {@code nfq-delay}: bridged
  * frames are passed to iptables (br_netfilter), queued with NFQUEUE and released late by that
  * program. Partitions are nftables drop rules in the bridge family whose sets name cut ports and
  * cut port pairs, so cutting and healing is one atomic set update.
  *
  * <p>Needs root. Check {@link #unavailableReason()} first and skip when it says why not.
  */
public final class NetLab implements Hosts, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetLab.class);

    private static final Pattern NAME = Pattern.compile("[a-z0-9]+");
    private static final int MAX_PREFIX = 10; // "<prefix>p<i>" must fit IFNAMSIZ (15 chars)
    private static final int QUEUE = 0; // NFQUEUE numbers are per namespace
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final String TABLE = "netlab";
    private static final File DEV_NULL = new File("/dev/null");

    private final String prefix;
    private final Map<String, Integer> sites = new LinkedHashMap<>();
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final Thread shutdownHook;
    private volatile Process delayer;
    private boolean closed;

    private NetLab(String prefix, List<String> siteNames) {
        this.prefix = prefix;
        for (String site : siteNames) {
            sites.put(site, sites.size());
        }
        // A test JVM that is stopped without close() must not leave namespaces behind.
        shutdownHook = new Thread(this::close, "netlab-" + prefix + "-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Empty when this host can run a NetLab; otherwise a sentence saying what is missing. */
    public static Optional<String> unavailableReason() {
        if (!isRoot()) {
            return Optional.of("System tests need root to create network namespaces; run them as root.");
        }
        Map<String, String> packageByTool = new LinkedHashMap<>();
        packageByTool.put("ip", "iproute2");
        packageByTool.put("iptables-legacy", "iptables");
        packageByTool.put("nft", "nftables");
        packageByTool.put("gcc", "gcc");
        List<String> missing = new ArrayList<>();
        List<String> packages = new ArrayList<>();
        packageByTool.forEach(
                (tool, pkg) -> {
                    if (findTool(tool).isEmpty()) {
                        missing.add(tool);
                        packages.add(pkg);
                    }
                });
        if (!Files.exists(Path.of("/usr/include/libnetfilter_queue/libnetfilter_queue.h"))) {
            missing.add("libnetfilter_queue.h");
            packages.add("libnetfilter-queue-dev");
        }
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(
                "System tests need "
                        + String.join(", ", missing)
                        + "; install the Debian packages: apt-get install "
                        + String.join(" ", packages)
                        + ".");
    }

    /**
      * Builds the namespaces, links and delayer. Site i gets address 10.77.0.(i+1). Leftovers of an
      * earlier run with the same prefix are removed first.
      */
    public static NetLab create(String prefix, List<String> sites, Duration oneWayDelay, Duration jitter)
            throws IOException {
        if (!NAME.matcher(prefix).matches() || prefix.length() > MAX_PREFIX) {
            throw new IllegalArgumentException("prefix must be 1-" + MAX_PREFIX + " of [a-z0-9]: " + prefix);
        }
        if (sites.isEmpty() || sites.size() > 250 || sites.stream().distinct().count() != sites.size()) {
            throw new IllegalArgumentException("need 1-250 distinct sites: " + sites);
        }
        for (String site : sites) {
            if (!NAME.matcher(site).matches() || site.equals("br")) {
                throw new IllegalArgumentException("bad site name (need [a-z0-9]+, not 'br'): " + site);
            }
        }
        removeLeftovers(prefix);
        Path binary = delayerBinary();
        NetLab lab = new NetLab(prefix, sites);
        try {
            lab.build(binary, oneWayDelay, jitter);
        } catch (IOException | RuntimeException e) {
            lab.close();
            throw e;
        }
        LOG.info("NetLab {} up: sites {}, one-way delay {} ± {}", prefix, sites, oneWayDelay, jitter);
        return lab;
    }

    @Override
    public String address(String site) {
        return "10.77.0." + (index(site) + 1);
    }

    public String namespace(String site) {
        index(site);
        return prefix + "-" + site;
    }

    /** Drops all traffic between {@code site} and every other site. */
    public void cutSite(String site) throws IOException {
        nft("add", "element", "bridge", TABLE, "cut_ports", "{", port(site), "}");
    }

    /** Drops traffic between {@code a} and {@code b} in both directions; both still reach others. */
    public void cutLink(String a, String b) throws IOException {
        if (a.equals(b)) {
            throw new IllegalArgumentException("cannot cut a site from itself: " + a);
        }
        String pa = port(a);
        String pb = port(b);
        nft("add", "element", "bridge", TABLE, "cut_pairs", "{", pa, ".", pb, ",", pb, ".", pa, "}");
    }

    public void heal() throws IOException {
        nft("flush", "set", "bridge", TABLE, "cut_ports");
        nft("flush", "set", "bridge", TABLE, "cut_pairs");
    }

    /**
      * Starts {@code command} inside the site's namespace with stdout and stderr appended to
      * {@code logFile}. {@code ip netns exec} execs the command, so the process is the command itself.
      */
    @Override
    public Process start(String site, List<String> command, Path logFile, Map<String, String> env)
            throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool("ip"), "netns", "exec", namespace(site)));
        argv.addAll(command);
        Path parent = logFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ProcessBuilder pb =
                new ProcessBuilder(argv)
                        .redirectInput(Redirect.from(DEV_NULL))
                        .redirectErrorStream(true)
                        .redirectOutput(Redirect.appendTo(logFile.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.add(p);
        LOG.info("started pid {} in {}: {} (log {})", p.pid(), site, String.join(" ", command), logFile);
        return p;
    }

    /** SIGKILL, then waits for the exit so the caller can rely on the process being gone. */
    @Override
    public void kill(Process p) {
        p.destroyForcibly(); // SIGKILL to this PID only
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                LOG.warn("pid {} did not exit within 10 s of SIGKILL", p.pid());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public void pause(Process p) throws IOException {
        signal(p, "STOP");
    }

    public void resume(Process p) throws IOException {
        signal(p, "CONT");
    }

    /** Runs a command inside the site's namespace and returns its stdout; throws if it fails. */
    @Override
    public String exec(String site, Duration timeout, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool("ip"), "netns", "exec", namespace(site)));
        argv.addAll(List.of(command));
        return run(timeout, argv);
    }

    /** Kills what this lab started and deletes its namespaces. Never throws; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down, possibly inside that very hook.
        }
        for (Process p : processes) {
            if (p.isAlive()) {
                kill(p);
            }
        }
        Process d = delayer;
        if (d != null) {
            d.destroy(); // SIGTERM: it accepts what it still holds before exiting
            try {
                if (!d.waitFor(5, TimeUnit.SECONDS)) {
                    kill(d);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                d.destroyForcibly();
            }
        }
        List<String> namespaces = new ArrayList<>();
        sites.keySet().forEach(site -> namespaces.add(prefix + "-" + site));
        namespaces.add(bridgeNamespace());
        // no "does it exist" check: if listing failed we would leave every namespace behind
        for (String ns : namespaces) {
            deleteNamespace(ns);
        }
        LOG.info("NetLab {} closed", prefix);
    }

    private void build(Path binary, Duration oneWayDelay, Duration jitter) throws IOException {
        String br = bridgeNamespace();
        ip("netns", "add", br);
        ip("-n", br, "link", "set", "lo", "up");
        ip("-n", br, "link", "add", "br0", "type", "bridge");
        ip("-n", br, "link", "set", "br0", "up");
        for (Map.Entry<String, Integer> e : sites.entrySet()) {
            String ns = namespace(e.getKey());
            String port = port(e.getKey());
            ip("netns", "add", ns);
            // Created inside the namespaces: "eth0" would clash with the host's own eth0.
            ip("-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip("-n", br, "link", "set", port, "master", "br0", "up");
            ip("-n", ns, "addr", "add", address(e.getKey()) + "/24", "dev", "eth0");
            ip("-n", ns, "link", "set", "eth0", "up");
            ip("-n", ns, "link", "set", "lo", "up");
        }
        try {
            // sysctl is per namespace; written via /proc so procps is not needed.
            inNamespace(br, "sh", "-c", "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables");
        } catch (IOException e) {
            throw new IOException("bridged traffic cannot reach iptables (is br_netfilter available?)", e);
        }
        // Dropping at priority -200 (before br_netfilter at 0) keeps cut frames out of the delay queue.
        nft(
                "add table bridge " + TABLE + ";"
                        + " add set bridge " + TABLE + " cut_ports { type ifname; };"
                        + " add set bridge " + TABLE + " cut_pairs { type ifname . ifname; };"
                        + " add chain bridge " + TABLE + " forward"
                        + " { type filter hook forward priority -200; policy accept; };"
                        + " add rule bridge " + TABLE + " forward iifname @cut_ports drop;"
                        + " add rule bridge " + TABLE + " forward oifname @cut_ports drop;"
                        + " add rule bridge " + TABLE + " forward iifname . oifname @cut_pairs drop");
        startDelayer(binary, oneWayDelay, jitter);
        // Only after the delayer is bound: NFQUEUE without a listener drops everything.
        // -w because the xtables lock file is shared by all namespaces on the host.
        inNamespace(
                br, tool("iptables-legacy"), "-w", "10", "-A", "FORWARD",
                "-m", "physdev", "--physdev-is-bridged",
                "-j", "NFQUEUE", "--queue-num", String.valueOf(QUEUE));
    }

    private void startDelayer(Path binary, Duration oneWayDelay, Duration jitter) throws IOException {
        Path logFile = targetDir().resolve("netlab-" + prefix + "-nfq-delay.log");
        List<String> argv =
                List.of(
                        tool("ip"), "netns", "exec", bridgeNamespace(), binary.toString(),
                        String.valueOf(QUEUE), String.valueOf(oneWayDelay.toMillis()), String.valueOf(jitter.toMillis()));
        LOG.debug("start: {}", String.join(" ", argv));
        Process d =
                new ProcessBuilder(argv)
                        .redirectInput(Redirect.from(DEV_NULL))
                        .redirectErrorStream(true)
                        .redirectOutput(logFile.toFile())
                        .start();
        delayer = d;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!readQuietly(logFile).contains("ready")) {
            if (!d.isAlive() || System.nanoTime() > deadline) {
                throw new IOException(
                        "nfq-delay did not start (`" + String.join(" ", argv) + "`): " + readQuietly(logFile).strip());
            }
            sleep(20);
        }
    }

    private static synchronized Path delayerBinary() throws IOException {
        String root = System.getProperty("tandem.root");
        Path source =
                root != null ? Path.of(root, "tests", "src", "test", "c", "nfq-delay.c") : Path.of("src/test/c/nfq-delay.c");
        Path binary = targetDir().resolve("nfq-delay");
        if (Files.exists(binary)
                && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) >= 0) {
            return binary;
        }
        Files.createDirectories(binary.getParent());
        // Build beside it and rename, so a concurrent run never executes a half-written binary.
        Path tmp = binary.resolveSibling("nfq-delay.tmp" + ProcessHandle.current().pid());
        run(
                Duration.ofSeconds(120),
                List.of(tool("gcc"), "-O2", "-Wall", "-o", tmp.toString(), source.toString(), "-lnetfilter_queue"));
        Files.move(tmp, binary, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return binary;
    }

    private static Path targetDir() {
        String root = System.getProperty("tandem.root");
        return (root != null ? Path.of(root, "tests", "target") : Path.of("target")).toAbsolutePath();
    }

    /** Namespaces of a crashed earlier run: their processes would otherwise keep them alive. */
    private static void removeLeftovers(String prefix) {
        for (String ns : listNamespaces()) {
            if (ns.startsWith(prefix + "-")) {
                LOG.warn("removing leftover namespace {}", ns);
                deleteNamespace(ns);
            }
        }
    }

    private static void deleteNamespace(String ns) {
        try {
            for (String pid : run(COMMAND_TIMEOUT, List.of(tool("ip"), "netns", "pids", ns)).split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            run(COMMAND_TIMEOUT, List.of(tool("ip"), "netns", "del", ns));
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not delete namespace {}: {}", ns, e.getMessage());
        }
    }

    private static List<String> listNamespaces() {
        List<String> names = new ArrayList<>();
        try {
            for (String line : run(COMMAND_TIMEOUT, List.of(tool("ip"), "netns", "list")).split("\n")) {
                if (!line.isBlank()) {
                    names.add(line.strip().split("\\s+")[0]); // "name (id: 3)"
                }
            }
        } catch (IOException e) {
            LOG.warn("could not list namespaces: {}", e.getMessage());
        }
        return names;
    }

    private void signal(Process p, String signal) throws IOException {
        // The shell builtin, because the kill binary (procps) may be absent.
        run(COMMAND_TIMEOUT, List.of("sh", "-c", "kill -" + signal + " " + p.pid()));
    }

    private void ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool("ip")));
        argv.addAll(List.of(args));
        run(COMMAND_TIMEOUT, argv);
    }

    private void nft(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool("nft")));
        argv.addAll(List.of(args));
        inNamespace(bridgeNamespace(), argv.toArray(String[]::new));
    }

    private void inNamespace(String ns, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of(tool("ip"), "netns", "exec", ns));
        argv.addAll(List.of(command));
        run(COMMAND_TIMEOUT, argv);
    }

    /** Every shell-out goes through here: logged, bounded in time, stderr in the exception. */
    private static String run(Duration timeout, List<String> command) throws IOException {
        String shown = String.join(" ", command);
        LOG.debug("run: {}", shown);
        Path out = Files.createTempFile("netlab-", ".out");
        Path err = Files.createTempFile("netlab-", ".err");
        try {
            // Files rather than pipes: a killed command's children may hold pipes open forever.
            Process p =
                    new ProcessBuilder(command)
                            .redirectInput(Redirect.from(DEV_NULL))
                            .redirectOutput(out.toFile())
                            .redirectError(err.toFile())
                            .start();
            boolean exited;
            try {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted: `" + shown + "`");
            }
            if (!exited) {
                p.destroyForcibly();
                throw new IOException("`" + shown + "` timed out after " + timeout + ": " + readQuietly(err).strip());
            }
            if (p.exitValue() != 0) {
                throw new IOException("`" + shown + "` exited with " + p.exitValue() + ": " + readQuietly(err).strip());
            }
            return readQuietly(out);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long millis) throws InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private int index(String site) {
        Integer i = sites.get(site);
        if (i == null) {
            throw new IllegalArgumentException("unknown site " + site + "; sites are " + sites.keySet());
        }
        return i;
    }

    private String port(String site) {
        return prefix + "p" + index(site);
    }

    private String bridgeNamespace() {
        return prefix + "-br";
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        } catch (IOException e) {
            // Not Linux, or no /proc: certainly no namespaces either.
        }
        return false;
    }

    /** PATH plus the sbin directories, which a non-login root shell may lack. */
    private static Optional<Path> findTool(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream()
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private static String tool(String name) {
        return findTool(name).map(Path::toString).orElse(name);
    }
}
