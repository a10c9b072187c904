package dev.tandem.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command to completion with a time-out. Its output goes to files, not pipes, so a chatty
 * command can never block on a full pipe while we wait for it.
 */
final class ProcessRun {
    record Result(int exit, String out, String err) {}

    private ProcessRun() {}

    static Result run(List<String> command, Duration timeout) throws IOException {
        return run(command, Map.of(), timeout);
    }

    static Result run(List<String> command, Map<String, String> env, Duration timeout) throws IOException {
        Path out = Files.createTempFile("run-", ".out");
        Path err = Files.createTempFile("run-", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            builder.environment().putAll(env);
            Process p = builder.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly(); // this PID only
                    throw new IOException(String.join(" ", command) + " did not finish in " + timeout.toSeconds() + "s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
