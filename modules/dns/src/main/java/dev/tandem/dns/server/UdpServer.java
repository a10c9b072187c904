package dev.tandem.dns.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DNS over UDP: a few workers, each with its own socket on the same address and port (SO_REUSEPORT,
 * so the kernel spreads clients over them), each receiving, answering and sending in a loop.
 */
final class UdpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UdpServer.class);
    private static final int MAX_REQUEST = 65535;

    private final List<DatagramChannel> channels = new ArrayList<>();
    private final List<Thread> workers = new ArrayList<>();
    private final QueryHandler handler;
    private final RateLimitedLog errors = new RateLimitedLog(LOG);

    UdpServer(InetSocketAddress address, int workers, QueryHandler handler) throws IOException {
        this.handler = handler;
        try {
            for (int i = 0; i < workers; i++) {
                DatagramChannel channel = DatagramChannel.open(address.getAddress() instanceof java.net.Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                channel.bind(address);
                channels.add(channel);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
        for (int i = 0; i < channels.size(); i++) {
            DatagramChannel channel = channels.get(i);
            Thread t = new Thread(() -> serve(channel), "dns-udp-" + i);
            t.setDaemon(true);
            this.workers.add(t);
            t.start();
        }
    }

    private void serve(DatagramChannel channel) {
        ByteBuffer in = ByteBuffer.allocateDirect(MAX_REQUEST);
        while (channel.isOpen()) {
            try {
                in.clear();
                InetSocketAddress client = (InetSocketAddress) channel.receive(in);
                in.flip();
                byte[] request = new byte[in.remaining()];
                in.get(request);
                handler.handle(request, client.getAddress(), false, reply -> send(channel, reply, client));
            } catch (ClosedChannelException e) {
                return;
            } catch (StackOverflowError | IOException | RuntimeException e) {
                // a worker outlives any one packet; only a JVM in trouble (out of memory) ends it
                errors.warn("DNS UDP worker: " + e, null);
            } catch (Error e) {
                if (e instanceof VirtualMachineError) {
                    LOG.error("DNS UDP worker {} ends", Thread.currentThread().getName(), e);
                    throw e;
                }
                errors.warn("DNS UDP worker: " + e, e);
            }
        }
    }

    private void send(DatagramChannel channel, byte[] reply, InetSocketAddress client) {
        try {
            channel.send(ByteBuffer.wrap(reply), client);
        } catch (IOException e) {
            errors.warn("could not send a DNS reply to " + client + ": " + e.getMessage(), null);
        }
    }

    @Override
    public void close() {
        for (DatagramChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a DNS UDP socket", e);
            }
        }
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
