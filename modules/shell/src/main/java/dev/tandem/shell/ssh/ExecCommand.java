package dev.tandem.shell.ssh;

import dev.tandem.shell.CliSessions;
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ssh node 'show cluster'}: one command line through {@link CliSessions#exec}, the client's stdin as its
 * input, output passed through as written ("\n" line ends), its status as the exit status.
 */
final class ExecCommand extends CliCommand {
    private static final Logger LOG = LoggerFactory.getLogger(ExecCommand.class);

    private final String commandLine;
    private PrintStream stdout;
    private PrintStream stderr;

    ExecCommand(CliSessions cli, Executor executor, String commandLine) {
        super(cli, executor);
        this.commandLine = commandLine;
    }

    @Override
    protected int run() {
        stdout = new PrintStream(new BufferedOutputStream(out, 8192), true, StandardCharsets.UTF_8);
        stderr = new PrintStream(new BufferedOutputStream(err, 8192), true, StandardCharsets.UTF_8);
        try {
            int status = cli.exec(user, commandLine, in, stdout, stderr);
            LOG.debug("exec by {} from {}: '{}' -> {}", user.name(), user.from(), commandLine, status);
            return status;
        } finally {
            stdout.flush();
            stderr.flush();
        }
    }

    @Override
    protected void reportCrash(Throwable t) {
        PrintStream e = stderr;
        if (e != null) {
            e.println("internal error: " + t + " (see the node log)");
            e.flush();
        }
    }

    @Override
    protected String describe() {
        return "exec";
    }
}
