package dev.tandem.system;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Sites as addresses on this machine's loopback (127.0.N.1, 127.0.N+1.1, …), for tests that need
 * several real nodes but no network between them: no root, no namespaces.
 */
final class Loopback implements Hosts {
    private final int firstOctet;
    private final List<String> sites;

    Loopback(int firstOctet, List<String> sites) {
        this.firstOctet = firstOctet;
        this.sites = List.copyOf(sites);
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
        return builder.start();
    }

    @Override
    public String exec(String site, Duration timeout, String... command) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).start();
        p.getOutputStream().close();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": "
                    + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        return out;
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
}
