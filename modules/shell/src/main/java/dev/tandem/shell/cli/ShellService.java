package dev.tandem.shell.cli;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.component.ShellCommand;
import dev.tandem.shell.AuditSink;
import dev.tandem.shell.CliSessions;
import dev.tandem.shell.ShellUser;
import dev.tandem.store.NodeStore;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jline.terminal.Terminal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shell of one node: what every session shares (the cluster, the local store, the commands other
 * components contribute, a pending {@code commit confirm}), and the entry points for SSH sessions.
 */
public final class ShellService implements CliSessions, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShellService.class);

    final ClusterService cluster;
    final NodeStore store;
    final AuditSink audit;
    final List<ShellCommand> extensions;
    final Path historyDir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "commit-confirm");
        t.setDaemon(true);
        return t;
    });
    private PendingConfirm pending;

    private record PendingConfirm(long version, ScheduledFuture<?> rollback, Instant deadline, String by) {}

    public ShellService(ClusterService cluster, NodeStore store, AuditSink audit, List<ShellCommand> extensions, Path historyDir) {
        this.cluster = cluster;
        this.store = store;
        this.audit = audit;
        this.extensions = List.copyOf(extensions);
        this.historyDir = historyDir;
    }

    @Override
    public int interactive(ShellUser user, Terminal terminal) {
        return new InteractiveShell(new CliSession(this, user), terminal).run();
    }

    @Override
    public int exec(ShellUser user, String commandLine, InputStream in, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        CliSession session = new CliSession(this, user);
        try {
            for (List<String> command : Tokenizer.commands(commandLine)) {
                if (session.execute(command, in, o) == CliSession.Next.LEAVE) break;
            }
            return 0;
        } catch (CliException ex) {
            e.println("error: " + ex.getMessage());
            return 1;
        } finally {
            o.flush();
            e.flush();
        }
    }

    /**
     * After {@code commit confirm}: unless confirmed in time, commit {@code previous} again, but only if
     * nobody committed since (a rollback must never undo someone else's change).
     */
    synchronized Instant scheduleRollback(ConfigVersion committed, ConfigVersion previous, Duration after, ShellUser user) {
        if (pending != null) pending.rollback.cancel(false);
        Instant deadline = Instant.now().plus(after);
        ScheduledFuture<?> rollback = timer.schedule(() -> rollBack(committed, previous, user), after.toMillis(), TimeUnit.MILLISECONDS);
        pending = new PendingConfirm(committed.version(), rollback, deadline, user.name());
        return deadline;
    }

    /** Confirms the pending {@code commit confirm}; returns its version, or -1 if there is none. */
    synchronized long confirm(ShellUser user) {
        if (pending == null) return -1;
        pending.rollback.cancel(false);
        long version = pending.version;
        pending = null;
        audit.record(user.name(), user.from(), "config.confirm", "version " + version + " confirmed");
        return version;
    }

    private void rollBack(ConfigVersion committed, ConfigVersion previous, ShellUser user) {
        synchronized (this) {
            if (pending == null || pending.version != committed.version()) return;
            pending = null;
        }
        String comment = "automatic rollback: version " + committed.version() + " (commit confirm by " + user.name()
                + ") was not confirmed; restoring version " + previous.version();
        try {
            ConfigVersion restored = cluster.commit(new CommitRequest(previous.config(), committed.version(), "tandem",
                    "commit-confirm@" + cluster.nodeName(), comment, Instant.now()));
            LOG.warn("{}: now version {}", comment, restored.version());
        } catch (CommitException e) {
            LOG.error("could not roll back unconfirmed version {}: {}", committed.version(), e.getMessage());
            audit.record("tandem", "commit-confirm@" + cluster.nodeName(), "config.rollback.failed",
                    "version " + committed.version() + " not rolled back: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
