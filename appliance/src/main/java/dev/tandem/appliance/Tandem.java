package dev.tandem.appliance;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tandem} command. The root script {@code ./tandem} builds the project and then calls this. */
@Command(
        name = "tandem",
        mixinStandardHelpOptions = true,
        version = "tandem 0.1.0",
        description = "Tandem: a multi-site high-availability appliance.",
        subcommands = {RunCommand.class, InitCommand.class, StatusCommand.class, ConfigCommand.class, BackendCommand.class})
public final class Tandem {
    public static void main(String[] args) {
        boolean daemon = args.length > 0 && args[0].equals("run");
        if (!daemon) quietLogging();
        CommandLine cli = new CommandLine(new Tandem());
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("tandem: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 2;
        });
        int code = cli.execute(args);
        if (!daemon || code != 0) System.exit(code);
    }

    /** One-shot commands print their results; library chatter stays out of them. */
    private static void quietLogging() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
    }
}
