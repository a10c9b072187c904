package dev.tandem.dns.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.dns.DemoZone;
import dev.tandem.dns.xfr.ZoneTransfers;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A real server on loopback, fed thousands of broken requests over UDP and hundreds of broken TCP
 * connections (a seeded corpus, so a failure replays): afterwards it must still answer correctly, on
 * every UDP worker and over TCP, with no worker lost and no connection left hanging.
 */
@Timeout(value = 50, unit = TimeUnit.SECONDS)
class DnsServerRobustnessTest {
    private static final Logger LOG = LoggerFactory.getLogger(DnsServerRobustnessTest.class);
    private static final long SEED = 0x7a9d3c51L;
    private static final int UDP_WORKERS = 4;
    private static final int UDP_JUNK = 6000;
    private static final int TCP_CONNECTIONS = 300;
    /** Distinct client sockets for the final check: SO_REUSEPORT hashes each to one worker, so all get asked. */
    private static final int PROBES = 32;
    private static final int TIMEOUT_MS = 2000;

    private DnsServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() throws IOException {
        ServingState state = DemoZone.state();
        QueryHandler handler = new QueryHandler(() -> state, new ZoneTransfers(new ZoneTransfers.Source() {
            @Override
            public ZoneSnapshot current(ServedZone zone) {
                return zone.snapshot();
            }

            @Override
            public Optional<ZoneSnapshot> at(ServedZone zone, long serial) {
                return Optional.empty();
            }
        }), (update, zone, signature, client, reply) -> reply.accept(wire(Responses.error(update, Rcode.REFUSED))));
        // UdpServer binds several sockets to one port (SO_REUSEPORT): port 0 would give each its own
        address = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), freePort());
        server = new DnsServer(address, UDP_WORKERS, handler);
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    @Test
    void aSelfPointingCompressionPointerIsFormerrAndTheServerAnswersOn() throws Exception {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            socket.setSoTimeout(TIMEOUT_MS);
            byte[] trap = Junk.selfPointer(0x5e1f);
            socket.send(new DatagramPacket(trap, trap.length, address));
            byte[] buffer = new byte[2048];
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            socket.receive(packet);
            byte[] reply = Arrays.copyOf(buffer, packet.getLength());

            assertThat(Junk.id(reply)).isEqualTo(0x5e1f);
            assertThat(Junk.isResponse(reply)).isTrue();
            assertThat(Junk.rcode(reply)).isEqualTo(Rcode.FORMERR);
        }
        assertAnswersOverUdp(1);
        assertAnswersOverTcp();
    }

    @Test
    void junkOverUdpAndTcpLeavesTheServerAnswering() throws Exception {
        assertAnswersOverUdp(1);
        int udpWorkers = threads("dns-udp-\\d+").size();
        assertThat(udpWorkers).isGreaterThanOrEqualTo(UDP_WORKERS);

        sendUdpJunk();
        sendTcpJunk();

        // no connection is left being served: each junk client closed, and the server noticed
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(connectionsBeingServed()).as("dns-tcp threads inside TcpServer.serve").isZero());
        assertThat(threads("dns-tcp-\\d+")).hasSizeLessThanOrEqualTo(TcpServer.MAX_CONNECTIONS);
        assertThat(threads("dns-tcp-accept")).as("the acceptor lives").isNotEmpty();
        assertThat(threads("dns-udp-\\d+")).as("no UDP worker lost").hasSize(udpWorkers);

        assertAnswersOverUdp(PROBES);
        assertAnswersOverTcp();
    }

    private void sendUdpJunk() throws Exception {
        Random random = new Random(SEED);
        List<byte[]> seeds = Junk.seeds();
        List<DatagramChannel> senders = new ArrayList<>();
        int sent = 0;
        int[] replies = new int[Rcode.BADCOOKIE + 1];
        try {
            for (int i = 0; i < 8; i++) {
                DatagramChannel channel = DatagramChannel.open();
                channel.bind(new InetSocketAddress("127.0.0.1", 0));
                channel.configureBlocking(false);
                senders.add(channel);
            }
            for (int i = 0; i < UDP_JUNK; i++) {
                byte[] junk = i % 500 == 499 ? Junk.bytes(random, 60_000) : Junk.next(random, seeds, 65_000);
                if (senders.get(i % senders.size()).send(ByteBuffer.wrap(junk), address) > 0 || junk.length == 0) sent++;
                if (i % 100 == 99) {
                    // let the workers keep up a little, and take the error replies out of our way
                    Thread.sleep(2);
                    drain(senders, replies);
                }
            }
            Thread.sleep(200);
            drain(senders, replies);
        } finally {
            for (DatagramChannel channel : senders) channel.close();
        }
        LOG.info("sent {} of {} junk datagrams; replies by rcode: FORMERR {}, NOTIMP {}, REFUSED {}, NOTAUTH {}, NOERROR {}, NXDOMAIN {}",
                sent, UDP_JUNK, replies[Rcode.FORMERR], replies[Rcode.NOTIMP], replies[Rcode.REFUSED], replies[Rcode.NOTAUTH],
                replies[Rcode.NOERROR], replies[Rcode.NXDOMAIN]);
        assertThat(sent).isGreaterThan(UDP_JUNK / 2);
        assertThat(replies[Rcode.FORMERR]).as("the server was answering junk while it came").isPositive();
        assertThat(replies[Rcode.SERVFAIL]).as("SERVFAIL means a request broke something inside").isZero();
    }

    private static void drain(List<DatagramChannel> channels, int[] replies) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(65_535);
        for (DatagramChannel channel : channels) {
            while (true) {
                buffer.clear();
                if (channel.receive(buffer) == null) break;
                if (buffer.position() >= 4) replies[buffer.get(3) & 0x0f]++;
            }
        }
    }

    private void sendTcpJunk() throws Exception {
        List<byte[]> seeds = Junk.seeds();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger resets = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < TCP_CONNECTIONS; c++) {
                int connection = c;
                done.add(clients.submit(() -> {
                    Random random = new Random(SEED + connection);
                    try {
                        tcpJunk(random, seeds, connection, failures);
                    } catch (SocketException e) {
                        resets.incrementAndGet(); // we closed with unread data, or the server did: both fine here
                    } catch (IOException e) {
                        failures.add("connection " + connection + ": " + e);
                    }
                }));
            }
            for (Future<?> f : done) f.get(30, TimeUnit.SECONDS);
        } finally {
            clients.shutdownNow();
        }
        LOG.info("{} junk TCP connections ({} ended by a reset)", TCP_CONNECTIONS, resets.get());
        assertThat(failures).isEmpty();
    }

    /** One connection's worth of junk; {@code failures} gets what the server did wrong. */
    private void tcpJunk(Random random, List<byte[]> seeds, int connection, ConcurrentLinkedQueue<String> failures) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, TIMEOUT_MS);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            switch (random.nextInt(7)) {
                case 0 -> {
                    // a few framed junk messages, then a clean end: every reply, then the server's close
                    for (int i = random.nextInt(3); i >= 0; i--) out.write(framed(Junk.next(random, seeds, 65_535)));
                    socket.shutdownOutput();
                    if (!readsToEnd(socket.getInputStream())) failures.add("connection " + connection + " (junk): the server did not close");
                }
                case 1 -> out.write(random.nextInt(256)); // half a length prefix, then gone
                case 2 -> {
                    // a length prefix promising more than follows, then gone
                    int length = 100 + random.nextInt(65_000);
                    out.write(new byte[] {(byte) (length >>> 8), (byte) length});
                    out.write(Junk.bytes(random, random.nextInt(length)));
                }
                case 3 -> {
                    // the largest message there is, a valid header on garbage, and more after it than it said
                    byte[] big = Junk.bytes(random, 65_535);
                    System.arraycopy(seeds.get(0), 0, big, 0, 12);
                    out.write(framed(big));
                    out.write(Junk.bytes(random, random.nextInt(5000)));
                    socket.shutdownOutput();
                    // whether the tail makes a message is up to the dice; either way our end of input ends it
                    if (!readsToEnd(socket.getInputStream())) failures.add("connection " + connection + " (65535 bytes): the server did not close");
                }
                case 4 -> out.write(framed(Junk.next(random, seeds, 65_535))); // and close at once, maybe before the reply
                case 5 -> {
                    // junk, then a real question on the same connection: answered in order, the junk did not derail it
                    out.write(framed(Junk.selfPointer(random.nextInt(0x10000))));
                    Message query = Junk.query("mail", Type.A);
                    out.write(framed(query.toWire()));
                    DataInputStream in = new DataInputStream(socket.getInputStream());
                    byte[] first = readFramed(in);
                    byte[] second = readFramed(in);
                    if (Junk.rcode(first) != Rcode.FORMERR) failures.add("connection " + connection + ": a compression loop got rcode " + Junk.rcode(first));
                    String problem = mailAnswerProblem(second, query.getHeader().getID());
                    if (problem != null) failures.add("connection " + connection + ": " + problem);
                }
                default -> {
                    // connect and say nothing, then leave
                }
            }
        }
    }

    private void assertAnswersOverUdp(int sockets) throws Exception {
        for (int s = 0; s < sockets; s++) {
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                socket.setSoTimeout(TIMEOUT_MS);
                String problem = null;
                // a junk backlog may still be in the worker's queue: a few tries, from the same port (same worker)
                for (int attempt = 0; attempt < 3; attempt++) {
                    Message query = Junk.query("mail", Type.A);
                    byte[] wire = query.toWire();
                    socket.send(new DatagramPacket(wire, wire.length, address));
                    try {
                        problem = receiveAnswer(socket, query.getHeader().getID());
                        break;
                    } catch (SocketTimeoutException e) {
                        problem = "no reply within " + TIMEOUT_MS + " ms (is a UDP worker gone?)";
                    }
                }
                assertThat(problem).as("UDP from port %d", socket.getLocalPort()).isNull();
            }
        }
    }

    private static String receiveAnswer(DatagramSocket socket, int id) throws IOException {
        byte[] buffer = new byte[2048];
        while (true) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            socket.receive(packet);
            byte[] reply = Arrays.copyOf(buffer, packet.getLength());
            if (Junk.id(reply) == id) return mailAnswerProblem(reply, id);
        }
    }

    private void assertAnswersOverTcp() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, TIMEOUT_MS);
            socket.setSoTimeout(TIMEOUT_MS);
            Message query = Junk.query("mail", Type.A);
            socket.getOutputStream().write(framed(query.toWire()));
            assertThat(mailAnswerProblem(readFramed(new DataInputStream(socket.getInputStream())), query.getHeader().getID())).isNull();
        }
    }

    /** Null if {@code reply} is the right answer to "mail.demo.test A", else what is wrong with it. */
    private static String mailAnswerProblem(byte[] reply, int id) {
        try {
            Message m = new Message(reply);
            if (m.getHeader().getID() != id) return "reply ID " + m.getHeader().getID() + ", asked with " + id;
            if (m.getRcode() != Rcode.NOERROR) return "rcode " + Rcode.string(m.getRcode());
            List<Record> answer = m.getSection(Section.ANSWER);
            if (answer.size() != 1 || !(answer.get(0) instanceof ARecord a) || !a.getAddress().equals(DemoZone.address("192.0.2.25"))) {
                return "wrong answer " + answer;
            }
            return null;
        } catch (IOException e) {
            return "reply does not parse: " + e;
        }
    }

    private static boolean readsToEnd(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        try {
            while (in.read(buffer) >= 0) {
                // replies to junk: not looked at
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    private static byte[] readFramed(DataInputStream in) throws IOException {
        int length = in.readUnsignedShort();
        byte[] out = new byte[length];
        in.readFully(out);
        return out;
    }

    private static byte[] framed(byte[] message) {
        byte[] out = new byte[message.length + 2];
        out[0] = (byte) (message.length >>> 8);
        out[1] = (byte) message.length;
        System.arraycopy(message, 0, out, 2, message.length);
        return out;
    }

    private static byte[] wire(Message m) {
        return m.toWire(Message.MAXLENGTH);
    }

    private static List<Thread> threads(String nameRegex) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().matches(nameRegex)).toList();
    }

    /**
     * TCP connection threads busy with a connection. Idle pool threads linger for the executor's
     * keep-alive (30s) and are not counted: they hold no connection.
     */
    private static long connectionsBeingServed() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().matches("dns-tcp-\\d+"))
                .filter(e -> Arrays.stream(e.getValue())
                        .anyMatch(f -> f.getClassName().equals(TcpServer.class.getName()) && f.getMethodName().equals("serve")))
                .count();
    }

    /** A port free for both TCP and UDP on 127.0.0.1 (then released for the server to take). */
    private static int freePort() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
                    return port;
                } catch (SocketException taken) {
                    // in use for UDP: try another
                }
            }
        }
        throw new IOException("no port free for both TCP and UDP");
    }
}
