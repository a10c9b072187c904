package dev.tandem.component;

import java.io.PrintWriter;
import java.util.List;

/**
 * A command a component adds to the admin shell, e.g. {@code show dns zones} or {@code proxy drain POOL MEMBER}.
 * The shell parses the line, checks the role and prints errors; the command does its job.
 */
public interface ShellCommand {
    /** The fixed words that select it, e.g. {@code ["show", "dns", "zones"]}. */
    List<String> words();

    /** One line for {@code ?} and {@code help}, arguments included, e.g. "[NAME] members, state and checker views of a pool". */
    String help();

    /** True for commands that change something: only the admin role may run them. */
    boolean changesState();

    /**
     * Runs with the words after {@link #words()}. Throw {@link IllegalArgumentException} for bad arguments,
     * with a message that says what was wrong; {@code json} is set when the user asked for {@code --json}.
     */
    void run(Caller caller, List<String> arguments, boolean json, PrintWriter out) throws Exception;

    /**
     * Who runs the command, for the audit trail of anything it commits.
     *
     * @param origin where from, as the audit log shows it ({@code ssh:alice@10.0.0.5@a1})
     */
    record Caller(String user, String origin) {}
}
