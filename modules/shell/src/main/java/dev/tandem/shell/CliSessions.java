package dev.tandem.shell;

import java.io.InputStream;
import java.io.PrintStream;
import org.jline.terminal.Terminal;

/** Runs the command language for an authenticated user, interactively or one command line at a time. */
public interface CliSessions {
    /** Runs an interactive session on {@code terminal} until the user leaves; returns the exit status. */
    int interactive(ShellUser user, Terminal terminal);

    /**
     * Runs one command line ({@code ssh node 'show cluster'}): output on {@code out}, errors on
     * {@code err}, 0 on success; {@code in} is the client's standard input ({@code configure load -}).
     */
    int exec(ShellUser user, String commandLine, InputStream in, PrintStream out, PrintStream err);
}
