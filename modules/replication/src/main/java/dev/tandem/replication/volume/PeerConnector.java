package dev.tandem.replication.volume;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Opens the TLS replication link to a peer node, authenticated both ways by the cluster CA, and checks
 * that the certificate is the expected node's: a valid cluster certificate of another node is not enough.
 */
public final class PeerConnector {
    /** Where a node's replication listener is, by node name; empty if the node is unknown. */
    public interface Directory {
        Optional<InetSocketAddress> replicationAddress(String node);
    }

    private final SSLContext tls;
    private final Directory directory;

    public PeerConnector(SSLContext tls, Directory directory) {
        this.tls = tls;
        this.directory = directory;
    }

    /** The raw socket is returned too: closing it unblocks a writer stuck in a TLS write, which closing the TLS socket may not. */
    public record Connection(Socket raw, SSLSocket tls) {}

    public Connection connect(String peer) throws IOException {
        InetSocketAddress address = directory.replicationAddress(peer)
                .orElseThrow(() -> new IOException("no address for node " + peer));
        Socket raw = new Socket();
        try {
            raw.setTcpNoDelay(true);
            raw.connect(address, 3000);
            raw.setSoTimeout(PeerLink.DEAD_AFTER_MS);
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(raw, address.getHostString(), address.getPort(), true);
            socket.setUseClientMode(true);
            socket.startHandshake();
            expectNode(socket, peer);
            return new Connection(raw, socket);
        } catch (IOException e) {
            raw.close();
            throw e;
        }
    }

    static void expectNode(SSLSocket socket, String node) throws IOException {
        String subject = socket.getSession().getPeerPrincipal().getName();
        if (!subject.contains("CN=" + node + ",") && !subject.endsWith("CN=" + node)) {
            throw new IOException("the peer presented " + subject + ", not node " + node);
        }
    }

    /** The node name in a peer certificate's subject, for the accepting side. */
    static String nodeOf(SSLSocket socket) throws IOException {
        String subject = socket.getSession().getPeerPrincipal().getName();
        for (String part : subject.split(",")) {
            String p = part.trim();
            if (p.startsWith("CN=")) return p.substring(3);
        }
        throw new IOException("peer certificate without a CN: " + subject);
    }
}
