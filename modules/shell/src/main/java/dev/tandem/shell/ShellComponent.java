package dev.tandem.shell;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.Node;
import dev.tandem.shell.cli.ShellService;
import dev.tandem.shell.ssh.SshShellServer;
import dev.tandem.store.AuditEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SSH admin shell of this node, on its admin address and {@code cluster.ssh_port}. Users and keys
 * come from the running document at every login, so a key added on any node works everywhere at once.
 */
public final class ShellComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(ShellComponent.class);
    /** The host key's public half, for known_hosts files (the demo writes one from it). */
    public static final String HOST_KEY_PUB = "ssh/host_ed25519.pub";

    private final List<ShellCommand> extensions;
    private ShellService service;
    private SshShellServer server;

    /** @param extensions the commands the other components contribute */
    public ShellComponent(List<ShellCommand> extensions) {
        this.extensions = List.copyOf(extensions);
    }

    @Override
    public String name() {
        return "shell";
    }

    @Override
    public void start(ComponentContext context) throws Exception {
        String nodeName = context.local().node();
        Node self = context.self();
        Path dataDir = context.local().dataDir();
        AuditSink audit = (who, from, action, detail) ->
                context.store().audit(new AuditEntry(Instant.now(), who, from + "@" + nodeName, action, detail));
        UserDirectory users = name -> context.cluster().running().config().users().stream()
                .filter(u -> u.name().equals(name))
                .findFirst();
        service = new ShellService(context.cluster(), context.store(), audit, extensions, dataDir.resolve("shell/history"));
        server = SshShellServer.start(self.effectiveAdminAddress(), context.cluster().running().config().cluster().sshPort(),
                dataDir.resolve("ssh/host_ed25519"), users, service, audit);
        Files.writeString(dataDir.resolve(HOST_KEY_PUB), server.hostKeyLine() + "\n");
        LOG.info("admin shell on ssh://{}:{}", self.effectiveAdminAddress(), server.port());
    }

    /** Users are read at each login; the port is bound at start (a changed ssh_port applies at the next start). */
    @Override
    public void apply(ConfigVersion version) {}

    @Override
    public void stop() {
        if (server != null) server.close();
        if (service != null) service.close();
    }
}
