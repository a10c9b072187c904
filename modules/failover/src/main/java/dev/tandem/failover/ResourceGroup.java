package dev.tandem.failover;

import dev.tandem.config.Volume;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What runs on top of a volume at its primary: the volume attached through its own NBD export and
 * mounted, then the service. Started in that order, stopped in reverse; each step timed for the
 * failover history. A step that fails stops the start (what did start is stopped again).
 */
final class ResourceGroup {
    private static final Logger LOG = LoggerFactory.getLogger(ResourceGroup.class);

    enum State { STOPPED, RUNNING, FAILED }

    record Step(String name, long millis, String result) {}

    private final String volume;
    private State state = State.STOPPED;
    private String problem;

    ResourceGroup(String volume) {
        this.volume = volume;
    }

    synchronized State state() {
        return state;
    }

    synchronized String problem() {
        return problem;
    }

    /** Starts mount and service; returns the timed steps. */
    synchronized List<Step> start(Volume v, String nbdHost, int nbdPort) {
        List<Step> steps = new ArrayList<>();
        Volume.Mount mount = v.group().mount();
        Volume.Service service = v.group().service();
        try {
            if (mount != null) {
                run(steps, "attach " + mount.device(), List.of("nbd-client", nbdHost, String.valueOf(nbdPort), mount.device(), "-N", volume), Duration.ofSeconds(30));
                List<String> cmd = new ArrayList<>(List.of("mount"));
                if (mount.fsType() != null) cmd.addAll(List.of("-t", mount.fsType()));
                if (mount.options() != null) cmd.addAll(List.of("-o", mount.options()));
                cmd.addAll(List.of(mount.device(), mount.path()));
                run(steps, "mount " + mount.path(), cmd, Duration.ofSeconds(60));
            }
            if (service != null) {
                run(steps, "start service", service.unit() != null ? List.of("systemctl", "start", service.unit())
                        : List.of("sh", "-c", service.start()), service.timeout());
            }
            state = State.RUNNING;
            problem = null;
        } catch (IOException e) {
            state = State.FAILED;
            problem = e.getMessage();
            LOG.error("volume {}: resource group did not start: {}", volume, e.getMessage());
            stopQuietly(v, steps);
        }
        return steps;
    }

    /** Stops the service, then unmounts and detaches; goes on past failures (the volume is demoting anyway). */
    synchronized List<Step> stop(Volume v) {
        List<Step> steps = new ArrayList<>();
        stopQuietly(v, steps);
        state = State.STOPPED;
        return steps;
    }

    private void stopQuietly(Volume v, List<Step> steps) {
        Volume.Service service = v.group().service();
        Volume.Mount mount = v.group().mount();
        if (service != null) {
            tryRun(steps, "stop service", service.unit() != null ? List.of("systemctl", "stop", service.unit())
                    : List.of("sh", "-c", service.stop()), service.timeout());
        }
        if (mount != null) {
            tryRun(steps, "unmount " + mount.path(), List.of("umount", mount.path()), Duration.ofSeconds(60));
            tryRun(steps, "detach " + mount.device(), List.of("nbd-client", "-d", mount.device()), Duration.ofSeconds(30));
        }
    }

    /** Whether the service says it runs (no status command: assumed so while started). */
    boolean serviceRunning(Volume v) {
        Volume.Service service = v.group().service();
        if (service == null || (service.unit() == null && service.status() == null)) return true;
        List<String> cmd = service.unit() != null ? List.of("systemctl", "is-active", "--quiet", service.unit())
                : List.of("sh", "-c", service.status());
        try {
            exec(cmd, service.timeout());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void tryRun(List<Step> steps, String name, List<String> cmd, Duration timeout) {
        try {
            run(steps, name, cmd, timeout);
        } catch (IOException e) {
            LOG.warn("volume {}: {} failed: {}", volume, name, e.getMessage());
        }
    }

    private void run(List<Step> steps, String name, List<String> cmd, Duration timeout) throws IOException {
        long started = System.nanoTime();
        try {
            exec(cmd, timeout);
            steps.add(new Step(name, (System.nanoTime() - started) / 1_000_000, "ok"));
        } catch (IOException e) {
            steps.add(new Step(name, (System.nanoTime() - started) / 1_000_000, "failed: " + e.getMessage()));
            throw new IOException(name + ": " + e.getMessage(), e);
        }
    }

    private static void exec(List<String> cmd, Duration timeout) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("did not finish within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IOException("exit " + p.exitValue() + (output.isEmpty() ? "" : ": " + output.lines().reduce((a, b) -> b).orElse("")));
        }
    }
}
