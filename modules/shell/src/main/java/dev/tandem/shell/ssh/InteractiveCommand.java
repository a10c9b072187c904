package dev.tandem.shell.ssh;

import dev.tandem.shell.CliSessions;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.Executor;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.SignalListener;
import org.apache.sshd.server.channel.ChannelSession;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The interactive shell: {@link CliSessions#interactive} on a JLine terminal over the channel. */
final class InteractiveCommand extends CliCommand {
    private static final Logger LOG = LoggerFactory.getLogger(InteractiveCommand.class);

    private volatile ExternalTerminal terminal;
    private Environment env;
    private SignalListener signals;

    InteractiveCommand(CliSessions cli, Executor executor) {
        super(cli, executor);
    }

    @Override
    protected void prepare(ChannelSession channel, Environment env) throws IOException {
        this.env = env;
        terminal = SshTerminal.open("ssh " + user.name() + "@" + user.from(), env, in, new NonClosing(out));
        signals = (ch, signal) -> onSignal(signal);
        env.addSignalListener(signals, Signal.WINCH, Signal.INT);
    }

    private void onSignal(Signal signal) {
        ExternalTerminal t = terminal;
        try {
            if (signal == Signal.WINCH) {
                t.setSize(SshTerminal.size(env));
                t.raise(Terminal.Signal.WINCH);
            } else if (signal == Signal.INT) {
                t.raise(Terminal.Signal.INT);
            }
        } catch (IllegalStateException closed) {
            // the terminal is closed: the session is ending
        }
    }

    @Override
    protected int run() {
        return cli.interactive(user, terminal);
    }

    @Override
    protected void release() {
        if (env != null && signals != null) {
            env.removeSignalListener(signals);
        }
        ExternalTerminal t = terminal;
        if (t == null) {
            return;
        }
        try {
            t.writer().flush();
            t.flush();
        } catch (RuntimeException e) {
            // already closed
        }
        try {
            t.close(); // the CLI's pending or next read ends (EOF)
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the terminal of {} failed: {}", user.name(), e.toString());
        }
    }

    @Override
    protected void reportCrash(Throwable t) {
        try {
            terminal.writer().println("internal error: " + t + " (see the node log)");
            terminal.writer().flush();
        } catch (RuntimeException ignored) {
            // nothing more to tell anyone
        }
    }

    @Override
    protected String describe() {
        return "shell";
    }

    /** The terminal must not close the channel's stream: MINA sends EOF and the exit status itself. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
