package dev.tandem.appliance;

import dev.tandem.appliance.local.LocalAdminProtocol;
import dev.tandem.appliance.local.LocalAdminProtocol.Request;
import dev.tandem.appliance.local.LocalAdminProtocol.Response;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.NodeLocalConfig;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code tandem config show|commit}: the running document of a local node, and commits through it. */
@Command(name = "config", description = "Show or commit the cluster document through a node on this machine.",
        subcommands = {ConfigCommand.Show.class, ConfigCommand.Commit.class})
final class ConfigCommand {
    @Option(names = "--config", required = true, scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "the local node's node.yaml")
    Path nodeConfig;

    Response call(Request request) throws Exception {
        Path socket = NodeLocalConfig.read(nodeConfig).dataDir().resolve(LocalAdminProtocol.SOCKET);
        if (!Files.exists(socket)) throw new IOException("no node is running from " + nodeConfig + " (" + socket + " is missing)");
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.write(ByteBuffer.wrap(ConfigCodec.toJson(request).getBytes(StandardCharsets.UTF_8)));
            channel.shutdownOutput();
            return ConfigCodec.json().readValue(Channels.newInputStream(channel).readAllBytes(), Response.class);
        }
    }

    static int print(Response response, boolean document) {
        if (response.error() != null) {
            System.err.println("tandem: " + response.error().toLowerCase().replace('_', ' ') + ": " + response.message());
            return response.error().equals("INVALID") || response.error().equals("BAD_REQUEST") ? 2 : 1;
        }
        if (document) System.out.print(response.document());
        else System.out.println("committed version " + response.version());
        return 0;
    }

    @Command(name = "show", description = "Print the running cluster document (YAML) of the local node.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        ConfigCommand parent;

        @Override
        public Integer call() throws Exception {
            return print(parent.call(new Request("show", null, null, null, null)), true);
        }
    }

    @Command(name = "commit", description = "Commit a whole new cluster document; it applies on every node once a majority has it.")
    static final class Commit implements Callable<Integer> {
        @ParentCommand
        ConfigCommand parent;

        @Option(names = "--file", required = true, description = "the new document (YAML); - for standard input")
        String file;

        @Option(names = "--comment", description = "why; kept in the history and the audit log")
        String comment;

        @Option(names = "--expect-version", description = "refuse unless the running version is still this one")
        Long expectedVersion;

        @Override
        public Integer call() throws Exception {
            String document = file.equals("-")
                    ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file));
            String author = System.getProperty("user.name", "unknown");
            return print(parent.call(new Request("commit", document, author, comment, expectedVersion)), false);
        }
    }
}
