package dev.tandem.replication.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real qemu-io / qemu-img against a server. */
final class Qemu {
    record Result(int exitCode, String output) {
    }

    private Qemu() {
    }

    static boolean available() {
        return onPath("qemu-io") && onPath("qemu-img");
    }

    static String url(NbdServer server, String export) {
        return "nbd://127.0.0.1:" + server.address().getPort() + "/" + export;
    }

    /** qemu-io on a raw NBD image with the given -c commands. */
    static Result io(String url, String... commands) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw", url));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        return run(command);
    }

    static Result run(String... command) throws IOException, InterruptedException {
        return run(List.of(command));
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("qemu", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            process.getOutputStream().close();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + command);
            }
            return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
