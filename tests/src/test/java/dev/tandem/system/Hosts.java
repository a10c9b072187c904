package dev.tandem.system;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Where a test's nodes run: one host per site, an address each, and processes started and killed there. */
interface Hosts {
    String address(String site);

    Process start(String site, List<String> command, Path logFile, Map<String, String> env) throws IOException;

    /** Runs a command on the site's host and returns its standard output; throws if it fails. */
    String exec(String site, Duration timeout, String... command) throws IOException;

    void kill(Process process);
}
