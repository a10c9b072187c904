package dev.tandem.shell.ssh;

import dev.tandem.shell.CliSessions;
import dev.tandem.shell.ShellUser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session channel's command (the shell or one exec'd line), run by the {@link CliSessions} on a thread of its
 * own, never on a MINA I/O thread. Its exit status goes back to the client; when the client goes away first,
 * {@link #release()} makes the CLI's next read fail so the thread ends. The CLI thread is not interrupted: it may
 * be in the middle of store I/O, which interrupts break.
 */
abstract class CliCommand implements Command {
    private static final Logger LOG = LoggerFactory.getLogger(CliCommand.class);

    protected final CliSessions cli;
    private final Executor executor;
    private final AtomicBoolean done = new AtomicBoolean();
    protected InputStream in;
    protected OutputStream out;
    protected OutputStream err;
    private ExitCallback exit;
    protected ShellUser user;

    CliCommand(CliSessions cli, Executor executor) {
        this.cli = cli;
        this.executor = executor;
    }

    @Override
    public void setInputStream(InputStream in) {
        this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
        this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback exit) {
        this.exit = exit;
    }

    @Override
    public final void start(ChannelSession channel, Environment env) throws IOException {
        user = channel.getSession().getAttribute(LoginGuard.USER);
        if (user == null) {
            throw new IOException("SSH session is not authenticated");
        }
        prepare(channel, env);
        try {
            executor.execute(this::runCli);
        } catch (RejectedExecutionException e) {
            done.set(true);
            release();
            throw new IOException("the SSH shell is stopping", e);
        }
    }

    private void runCli() {
        Thread thread = Thread.currentThread();
        String poolName = thread.getName();
        thread.setName(threadName());
        int status = 1;
        try {
            status = run();
        } catch (Throwable t) {
            if (!done.get()) {
                LOG.warn("{} of {} from {} failed", describe(), user.name(), user.from(), t);
                reportCrash(t);
            }
        } finally {
            finish(status);
            thread.setName(poolName);
        }
    }

    private void finish(int status) {
        if (done.compareAndSet(false, true)) {
            flushQuietly(out);
            flushQuietly(err);
            release();
            exit.onExit(status);
        }
    }

    /** The channel is closing (client gone, server stopping): end the CLI's I/O; no exit status is sent. */
    @Override
    public void destroy(ChannelSession channel) {
        if (done.compareAndSet(false, true)) {
            LOG.debug("{} of {} from {} ended by the channel closing", describe(), user == null ? "?" : user.name(),
                    user == null ? "?" : user.from());
            release();
        }
    }

    /** Before the CLI thread starts, on the MINA thread handling the request. */
    protected void prepare(ChannelSession channel, Environment env) throws IOException {}

    /** On the CLI thread: runs the CLI and returns the exit status. */
    protected abstract int run() throws Exception;

    /** Frees what the command holds; called once, from either thread. */
    protected void release() {}

    /** Tells the client, if still possible, that the CLI crashed. */
    protected abstract void reportCrash(Throwable t);

    protected abstract String describe();

    private String threadName() {
        return "ssh-" + describe() + " " + user.name() + "@" + user.from();
    }

    static void flushQuietly(OutputStream stream) {
        if (stream == null) {
            return;
        }
        try {
            stream.flush();
        } catch (IOException e) {
            LOG.debug("flushing an SSH channel stream failed: {}", e.toString());
        }
    }
}
