package dev.tandem.dns.xfr;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Tells secondaries that a zone changed (RFC 1996): a NOTIFY over UDP from this node's DNS address,
 * so that a secondary which lists us as a primary accepts it; retried until acknowledged.
 */
public final class Notifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    private static final int ATTEMPTS = 5;
    private static final int WAIT_MS = 2000;

    private final ExecutorService sender = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "dns-notify");
        t.setDaemon(true);
        return t;
    });

    /** @param target {@code address} or {@code address:port} ({@code [v6]:port} for IPv6) */
    public void notify(InetAddress source, String target, SOARecord soa) {
        InetSocketAddress to;
        try {
            to = parseTarget(target);
        } catch (IllegalArgumentException e) {
            LOG.warn("not sending NOTIFY to {}: {}", target, e.getMessage());
            return;
        }
        sender.execute(() -> send(source, to, soa));
    }

    public static InetSocketAddress parseTarget(String target) {
        String host = target;
        int port = 53;
        int colon = target.lastIndexOf(':');
        if (target.startsWith("[")) {
            int close = target.indexOf(']');
            if (close < 0) throw new IllegalArgumentException("\"" + target + "\": missing ]");
            host = target.substring(1, close);
            if (close + 1 < target.length()) port = port(target, target.substring(close + 1).replaceFirst("^:", ""));
        } else if (colon > 0 && target.indexOf(':') == colon) {
            host = target.substring(0, colon);
            port = port(target, target.substring(colon + 1));
        }
        if (!host.matches("[0-9a-fA-F:.]+")) throw new IllegalArgumentException("\"" + target + "\" is not an IP address[:port]");
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (IOException e) {
            throw new IllegalArgumentException("\"" + target + "\" is not an IP address[:port]");
        }
    }

    private static int port(String target, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) return port;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("\"" + target + "\" has a bad port (1-65535)");
    }

    private void send(InetAddress source, InetSocketAddress to, SOARecord soa) {
        int id = ThreadLocalRandom.current().nextInt(0x10000);
        Message notify = new Message(id);
        notify.getHeader().setOpcode(Opcode.NOTIFY);
        notify.getHeader().setFlag(Flags.AA);
        notify.addRecord(Record.newRecord(soa.getName(), Type.SOA, DClass.IN), Section.QUESTION);
        notify.addRecord(soa, Section.ANSWER);
        byte[] wire = notify.toWire();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(source, 0))) {
            socket.setSoTimeout(WAIT_MS);
            for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                socket.send(new DatagramPacket(wire, wire.length, to));
                if (acknowledged(socket, id)) {
                    LOG.info("NOTIFY {} serial {} to {}: acknowledged", soa.getName(), soa.getSerial(), to);
                    return;
                }
            }
            LOG.warn("NOTIFY {} serial {} to {}: no answer after {} tries", soa.getName(), soa.getSerial(), to, ATTEMPTS);
        } catch (IOException e) {
            LOG.warn("NOTIFY {} to {} failed: {}", soa.getName(), to, e.getMessage());
        }
    }

    private static boolean acknowledged(DatagramSocket socket, int id) throws IOException {
        byte[] buffer = new byte[512];
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                return false;
            }
            if (packet.getLength() >= 4 && (((buffer[0] & 0xff) << 8) | (buffer[1] & 0xff)) == id && (buffer[2] & 0x80) != 0) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
