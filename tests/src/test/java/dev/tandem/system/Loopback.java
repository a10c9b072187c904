package dev.tandem.system;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sites as addresses on this machine's loopback (127.0.N.1, 127.0.N+1.1, …), for tests that need
 * several real nodes but no network between them: no root, no namespaces.
 */
final class Loopback implements Hosts, AutoCloseable {
    private final int firstOctet;
    private final List<String> sites;
    private final List<Process> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    // nodes must not outlive a test JVM that is stopped without close(): the next run would find their ports taken
    private final Thread reaper = new Thread(this::close, "loopback-reaper");

    Loopback(int firstOctet, List<String> sites) {
        this.firstOctet = firstOctet;
        this.sites = List.copyOf(sites);
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    @Override
    public String address(String site) {
        int index = sites.indexOf(site);
        if (index < 0) throw new IllegalArgumentException("no site " + site);
        return "127.0." + (firstOctet + index) + ".1";
    }

    @Override
    public Process start(String site, List<String> command, Path logFile, Map<String, String> env) throws IOException {
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(Redirect.appendTo(logFile.toFile()));
        builder.environment().putAll(env);
        Process process = builder.start();
        started.add(process);
        return process;
    }

    @Override
    public String exec(String site, Duration timeout, String... command) throws IOException {
        ProcessRun.Result r = ProcessRun.run(List.of(command), timeout);
        if (r.exit() != 0) throw new IOException(String.join(" ", command) + " exited " + r.exit() + ": " + r.err());
        return r.out();
    }

    @Override
    public void kill(Process process) {
        process.destroyForcibly(); // SIGKILL to this PID only
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Kills every process this host started that still runs (by PID). */
    @Override
    public void close() {
        for (Process p : started) if (p.isAlive()) kill(p);
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException alreadyShuttingDown) {
            // we are the hook
        }
    }
}
