package dev.tandem.cluster.node;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ClusterSettings.FailureDetection;
import dev.tandem.config.Node;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.protocols.raft.ELECTION2;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.NO_DUPES;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.stack.Protocol;
import org.jgroups.util.TLS;
import org.jgroups.util.TLSClientAuth;

/**
 * The JGroups protocol stack of the control plane, built in code from the cluster document: TCP with
 * mutually authenticated TLS, static discovery of every node, failure detection as configured, merge
 * after partitions, and jgroups-raft on top. No raft.CLIENT: it would open an unauthenticated
 * membership-changing port.
 */
final class ControlPlaneStack {
    private ControlPlaneStack() {}

    /**
     * @param belowMembership protocols placed right above the transport (tests put DISCARD here to cut links)
     */
    static List<Protocol> build(ClusterConfig config, Node self, SSLContext tls, Path raftDir, List<Protocol> belowMembership)
            throws UnknownHostException {
        int port = config.cluster().controlPort();
        FailureDetection fd = config.cluster().failureDetection();

        InetAddress controlAddress = InetAddress.getByName(self.controlAddress());
        TCP transport = new TCP().setBindAddress(controlAddress).setBindPort(port).setPortRange(0);
        // outgoing connections come from the control address too, so peers and firewalls see one address per node
        transport.setClientBindAddr(controlAddress);
        // the TLS helper only shapes the server side (need client auth); the SSLContext is ours, from the cluster CA
        transport.setSocketFactory(new TLS().setClientAuth(TLSClientAuth.NEED).createSocketFactory(tls));

        List<InetSocketAddress> everyone = new ArrayList<>();
        for (Node node : config.nodes()) everyone.add(new InetSocketAddress(InetAddress.getByName(node.controlAddress()), port));

        List<Protocol> stack = new ArrayList<>();
        stack.add(transport);
        stack.addAll(belowMembership);
        stack.add(new TCPPING().setInitialHosts(everyone).setPortRange(0));
        stack.add(new MERGE3().setMinInterval(1000).setMaxInterval(5000));
        // no FD_SOCK2: it listens on every interface (port + 100) and its plain sockets do not pass through our
        // TLS factory; in our WAN tests its failed connects raised false suspicions and excluded healthy nodes.
        // FD_ALL3 + VERIFY_SUSPECT2 find a crashed process as fast as a cut link: timeout + verify.
        stack.add(new FD_ALL3().setTimeout(fd.timeout().toMillis()).setInterval(fd.interval().toMillis()));
        stack.add(new VERIFY_SUSPECT2().setTimeout(fd.verify().toMillis()));
        stack.add(new NAKACK2().useMcastXmit(false));
        stack.add(new UNICAST3());
        stack.add(new STABLE());
        stack.add(new NO_DUPES()); // refuses a second process claiming a raft id already in the view
        // generous: over a WAN with cold JVMs a JOIN can take seconds, and a retried JOIN is refused by NO_DUPES
        stack.add(new GMS().setJoinTimeout(6000).printLocalAddress(false));
        stack.add(new UFC());
        stack.add(new MFC());
        stack.add(new FRAG4());
        stack.add(new ELECTION2()); // pre-vote: a node coming back from a partition does not depose a healthy leader
        stack.add(new RAFT()
                .members(config.voterNames())
                .raftId(self.name())
                .logClass(FileBasedLog.class.getName())
                .logDir(raftDir.toString())
                .logPrefix(self.name())
                .resendInterval(200));
        // not send_commits_immediately: with it, jgroups-raft 1.1.4 failed commits under load in our tests;
        // followers learn a commit at the next append or within resend_interval: 200 ms, because a
        // failover decision takes effect only when the new primary has applied it
        stack.add(new REDIRECT());
        return stack;
    }
}
