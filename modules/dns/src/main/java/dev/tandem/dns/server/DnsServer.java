package dev.tandem.dns.server;

import java.io.IOException;
import java.net.InetSocketAddress;

/** DNS on one address and port, over UDP and TCP, both answered by one {@link QueryHandler}. */
public final class DnsServer implements AutoCloseable {
    private final InetSocketAddress address;
    private final UdpServer udp;
    private final TcpServer tcp;

    public DnsServer(InetSocketAddress address, int udpWorkers, QueryHandler handler) throws IOException {
        this.address = address;
        this.tcp = new TcpServer(address, handler);
        try {
            this.udp = new UdpServer(address, udpWorkers, handler);
        } catch (IOException e) {
            tcp.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        udp.close();
        tcp.close();
    }
}
