package dev.tandem.proxy.http;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A Jetty proxy whose handler tunnels every request to a small blocking backend that speaks just enough WebSocket
 * (RFC 6455) to echo, plus a few misbehaving paths. The client is the JDK's WebSocket, or a raw socket where the
 * bytes themselves are the point.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpgradeTunnelTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final BlockingQueue<RecordingOutcome> OUTCOMES = new LinkedBlockingQueue<>();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private static Backend backend;
    private static InetSocketAddress deadBackend;
    private static QueuedThreadPool proxyThreads;
    private static ArrayByteBufferPool.Tracking buffers;
    private static Server proxy;
    private static ServerConnector proxyConnector;
    private static int baselineThreads;

    @BeforeAll
    static void start() throws Exception {
        // This module has no logback-test.xml, and logback's default would log Jetty at DEBUG: megabytes per test.
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
        backend = new Backend();
        try (ServerSocket closed = new ServerSocket(0, 1, LOOPBACK)) {
            deadBackend = new InetSocketAddress(LOOPBACK, closed.getLocalPort());
        }

        // Extra threads die quickly and all at once, so the count settles back to the minimum within seconds.
        proxyThreads = new QueuedThreadPool(40, 6, 500);
        proxyThreads.setName("proxy");
        proxyThreads.setReservedThreads(0);
        proxyThreads.setMaxEvictCount(40);
        buffers = new ArrayByteBufferPool.Tracking();
        proxy = new Server(proxyThreads, null, buffers);
        proxyConnector = new ServerConnector(proxy, 1, 1);
        proxyConnector.setHost("127.0.0.1");
        proxyConnector.setPort(0);
        // Keep-alive connections left by refused upgrades must not outlive the test by long.
        proxyConnector.setIdleTimeout(2_000);
        proxy.addConnector(proxyConnector);

        ClientConnector toBackends = new ClientConnector();
        toBackends.setExecutor(proxyThreads);
        toBackends.setScheduler(proxy.getScheduler());
        toBackends.setByteBufferPool(proxy.getByteBufferPool());
        toBackends.setSelectors(1);
        toBackends.setConnectTimeout(Duration.ofSeconds(5));
        proxy.addBean(toBackends);

        UpgradeTunnel tunnel = new UpgradeTunnel(toBackends, Duration.ofSeconds(20));
        proxy.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                RecordingOutcome outcome = new RecordingOutcome();
                OUTCOMES.add(outcome);
                boolean dead = Request.getPathInContext(request).startsWith("/dead");
                HttpFields extra = HttpFields.build().add("X-Forwarded-For", Request.getRemoteAddr(request));
                tunnel.handle(request, response, callback, dead ? deadBackend : backend.address(), extra, outcome);
                return true;
            }
        });
        proxy.start();
        baselineThreads = proxyThreads.getThreads();
    }

    @AfterAll
    static void stop() throws Exception {
        proxy.stop();
        backend.close();
    }

    @BeforeEach
    void forgetEarlierOutcomes() {
        OUTCOMES.clear();
    }

    @Test
    void textMessagesEchoThroughTheTunnelIncludingA200KbOne() throws Exception {
        Messages messages = new Messages();
        WebSocket ws = open("/echo", messages);
        String big = "0123456789abcdef".repeat(200 * 1024 / 16);
        List<String> sent = List.of("one", "two", big, "three");
        for (String text : sent)
            ws.sendText(text, true).get(10, SECONDS);

        List<String> echoed = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++)
            echoed.add(messages.received.poll(10, SECONDS));
        assertThat(echoed).containsExactlyElementsOf(sent);

        String head = backend.heads.peek();
        assertThat(head).startsWith("GET /echo HTTP/1.1\r\n").containsIgnoringCase("\r\nUpgrade: websocket\r\n")
            .contains("\r\nConnection: Upgrade\r\n", "\r\nX-Forwarded-For: 127.0.0.1\r\n");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, SECONDS);
    }

    @Test
    void theSubprotocolTheBackendChoseReachesTheClient() throws Exception {
        WebSocket ws = CLIENT.newWebSocketBuilder().subprotocols("chat.v1", "chat.v2")
            .buildAsync(uri("/echo"), new Messages()).get(10, SECONDS);
        assertThat(ws.getSubprotocol()).isEqualTo("chat.v2");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, SECONDS);
    }

    @Test
    void aRefusedUpgradeReachesTheClientWithItsStatusAndBody() throws Exception {
        assertThat(handshakeStatus("/forbidden")).isEqualTo(403);
        RecordingOutcome viaWebSocket = OUTCOMES.poll(10, SECONDS);

        RawAnswer raw = rawUpgrade("/forbidden");
        assertThat(raw.statusLine).startsWith("HTTP/1.1 403 ");
        assertThat(raw.body).isEqualTo("go away\n");

        for (RecordingOutcome outcome : List.of(viaWebSocket, OUTCOMES.poll(10, SECONDS)))
            await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("finished"));
    }

    @Test
    void aClosedBackendPortGives502AndReportsTheFailureOnce() throws Exception {
        assertThat(handshakeStatus("/dead/echo")).isEqualTo(502);
        RecordingOutcome outcome = OUTCOMES.poll(10, SECONDS);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("connectFailed", "finished"));
        assertThat(outcome.causes).singleElement().isInstanceOf(IOException.class);
    }

    @Test
    void aClientCloseReachesTheBackendAndFinishesOnce() throws Exception {
        Messages messages = new Messages();
        WebSocket ws = open("/echo", messages);
        RecordingOutcome outcome = OUTCOMES.poll(10, SECONDS);
        ws.sendText("hello", true).get(10, SECONDS);
        assertThat(messages.received.poll(10, SECONDS)).isEqualTo("hello");
        assertThat(outcome.events).isEmpty();

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye from the close test").get(10, SECONDS);
        await().atMost(WAIT).until(() -> backend.closes.contains("1000 bye from the close test"));
        assertThat(messages.closed.get(10, SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("finished"));
        await().during(Duration.ofMillis(500)).atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).hasSize(1));
    }

    @Test
    void earlyBytesFromEitherSideAndHalfClosesPassThroughWithoutHopByHopHeaders() throws Exception {
        try (Socket client = new Socket(LOOPBACK, proxyConnector.getLocalPort())) {
            client.setSoTimeout(10_000);
            // The first bytes of the new protocol ride with the request head, and the backend's with its 101.
            client.getOutputStream().write(ascii("GET /raw?q=1 HTTP/1.1\r\nHost: test\r\nConnection: keep-alive, Upgrade, X-Hop\r\n"
                + "Upgrade: raw\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-End-To-End: 2\r\n\r\nping"));
            InputStream in = client.getInputStream();
            String opened = readUntil(in, "hello;ping");
            assertThat(opened).startsWith("HTTP/1.1 101 ").containsIgnoringCase("\r\nUpgrade: raw\r\n").endsWith("\r\n\r\nhello;ping");
            String head = backend.heads.stream().filter(h -> h.startsWith("GET /raw")).findFirst().orElseThrow();
            assertThat(head).startsWith("GET /raw?q=1 HTTP/1.1\r\n")
                .contains("\r\nHost: test\r\n", "\r\nUpgrade: raw\r\n", "\r\nConnection: Upgrade\r\n", "\r\nX-End-To-End: 2\r\n")
                .doesNotContain("X-Hop", "Keep-Alive", "keep-alive");

            // The client stops sending; the backend still answers, then stops too.
            client.shutdownOutput();
            assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("bye");
        }
        RecordingOutcome outcome = OUTCOMES.poll(10, SECONDS);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("finished"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/garbage", "/huge"})
    void aBadAnswerFromTheBackendGives502(String path) throws Exception {
        assertThat(rawUpgrade(path).statusLine).startsWith("HTTP/1.1 502 ");
        RecordingOutcome outcome = OUTCOMES.poll(10, SECONDS);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("finished"));
    }

    @Test
    void aRequestThatIsNotAnUpgradeIsRefusedWithoutCallingTheBackend() throws Exception {
        int before = backend.heads.size();
        assertThat(rawExchange("GET /echo HTTP/1.1\r\nHost: test\r\n\r\n").statusLine).startsWith("HTTP/1.1 400 ");
        RecordingOutcome outcome = OUTCOMES.poll(10, SECONDS);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcome.events).containsExactly("finished"));
        assertThat(backend.heads).hasSize(before);
    }

    @Test
    void manyTunnelsAtOnceKeepTheirBytesApart() throws Exception {
        List<Messages> listeners = new ArrayList<>();
        List<WebSocket> sockets = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            listeners.add(new Messages());
            sockets.add(open("/echo", listeners.get(i)));
        }
        List<CompletableFuture<WebSocket>> sends = new ArrayList<>();
        for (int i = 0; i < sockets.size(); i++)
            sends.add(sockets.get(i).sendText(("client " + i + " ").repeat(5_000), true));
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(20, SECONDS);
        for (int i = 0; i < sockets.size(); i++) {
            assertThat(listeners.get(i).received.poll(20, SECONDS)).isEqualTo(("client " + i + " ").repeat(5_000));
            sockets.get(i).sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
        List<RecordingOutcome> outcomes = new ArrayList<>();
        OUTCOMES.drainTo(outcomes);
        assertThat(outcomes).hasSize(20);
        await().atMost(WAIT).untilAsserted(() -> assertThat(outcomes).allSatisfy(o -> assertThat(o.events).containsExactly("finished")));
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void nothingLingersOnceEveryExchangeIsOver() {
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(proxyConnector.getConnectedEndPoints()).isEmpty();
            assertThat(backend.open).hasValue(0);
            assertThat(proxyThreads.getThreads()).isLessThanOrEqualTo(baselineThreads);
            long proxyThreadsAlive = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("proxy-")).count();
            assertThat(proxyThreadsAlive).isLessThanOrEqualTo(baselineThreads);
            assertThat(buffers.getLeaks()).as(buffers::dumpLeaks).isEmpty();
        });
    }

    private static WebSocket open(String path, Messages messages) throws Exception {
        return CLIENT.newWebSocketBuilder().buildAsync(uri(path), messages).get(10, SECONDS);
    }

    private static int handshakeStatus(String path) throws Exception {
        CompletableFuture<WebSocket> handshake = CLIENT.newWebSocketBuilder().buildAsync(uri(path), new Messages());
        try {
            handshake.get(10, SECONDS);
        } catch (ExecutionException x) {
            assertThat(x.getCause()).isInstanceOf(WebSocketHandshakeException.class);
            return ((WebSocketHandshakeException) x.getCause()).getResponse().statusCode();
        }
        throw new AssertionError("the handshake for " + path + " succeeded");
    }

    private static URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + proxyConnector.getLocalPort() + path);
    }

    private static RawAnswer rawUpgrade(String path) throws IOException {
        return rawExchange("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }

    /** Sends a request by hand and reads the answer's head and Content-Length body. */
    private static RawAnswer rawExchange(String request) throws IOException {
        try (Socket client = new Socket(LOOPBACK, proxyConnector.getLocalPort())) {
            client.setSoTimeout(10_000);
            client.getOutputStream().write(ascii(request));
            InputStream in = new BufferedInputStream(client.getInputStream());
            String head = readUntil(in, "\r\n\r\n");
            int length = 0;
            for (String line : head.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                    length = Integer.parseInt(line.substring(15).trim());
            }
            return new RawAnswer(head.substring(0, head.indexOf("\r\n")), new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
        }
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while (!bytes.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
            int b = in.read();
            if (b < 0)
                throw new IOException("EOF before " + end + " in " + bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.write(b);
        }
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private record RawAnswer(String statusLine, String body) {
    }

    private static final class RecordingOutcome implements UpgradeTunnel.Outcome {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Throwable> causes = new CopyOnWriteArrayList<>();

        @Override
        public void connectFailed(Throwable cause) {
            causes.add(cause);
            events.add("connectFailed");
        }

        @Override
        public void finished() {
            events.add("finished");
        }
    }

    /** Whole text messages as the JDK client delivers them in parts. */
    private static final class Messages implements WebSocket.Listener {
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                received.add(partial.toString());
                partial = new StringBuilder();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    /**
     * The backend: blocking sockets and a thread per connection, which is fine for a test. {@code /echo} is a WebSocket
     * echo that picks "chat.v2" when offered; {@code /raw} answers 101 plus "hello;" in one write, echoes until the
     * client's EOF, then says "bye"; the other paths answer with a refusal or nonsense.
     */
    private static final class Backend implements AutoCloseable {
        private static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

        final Queue<String> heads = new ConcurrentLinkedQueue<>();
        final Queue<String> closes = new ConcurrentLinkedQueue<>();
        final AtomicInteger open = new AtomicInteger();
        private final ServerSocket server;

        Backend() throws IOException {
            server = new ServerSocket(0, 50, LOOPBACK);
            Thread acceptor = new Thread(this::accept, "backend-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(LOOPBACK, server.getLocalPort());
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    open.incrementAndGet();
                    Thread connection = new Thread(() -> serve(socket), "backend-connection");
                    connection.setDaemon(true);
                    connection.start();
                } catch (IOException x) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            try (socket) {
                InputStream in = new BufferedInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                String head = readUntil(in, "\r\n\r\n");
                heads.add(head);
                switch (head.split(" ", 3)[1].replaceFirst("\\?.*", "")) {
                    case "/echo" -> webSocketEcho(head, in, out);
                    case "/raw" -> rawEcho(in, out, socket);
                    case "/forbidden" -> out.write(ascii("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\ngo away\n"));
                    case "/garbage" -> out.write(ascii("garbage\r\n\r\n"));
                    case "/huge" -> out.write(ascii("HTTP/1.1 101 Switching Protocols\r\nX-Pad: " + "x".repeat(70_000) + "\r\n\r\n"));
                    default -> out.write(ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
                }
            } catch (IOException x) {
                // the proxy went away: nothing to serve
            } finally {
                open.decrementAndGet();
            }
        }

        private void rawEcho(InputStream in, OutputStream out, Socket socket) throws IOException {
            out.write(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\nhello;"));
            in.transferTo(out);
            out.write(ascii("bye"));
            socket.shutdownOutput();
        }

        private void webSocketEcho(String head, InputStream in, OutputStream out) throws IOException {
            String offered = header(head, "Sec-WebSocket-Protocol");
            boolean chat = offered != null && List.of(offered.split("\\s*,\\s*")).contains("chat.v2");
            out.write(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept(header(head, "Sec-WebSocket-Key")) + "\r\n"
                + (chat ? "Sec-WebSocket-Protocol: chat.v2\r\n" : "") + "\r\n"));
            DataInputStream frames = new DataInputStream(in);
            while (true) {
                int b0 = frames.read();
                if (b0 < 0)
                    return;
                int b1 = frames.readUnsignedByte();
                long length = b1 & 0x7F;
                if (length == 126)
                    length = frames.readUnsignedShort();
                else if (length == 127)
                    length = frames.readLong();
                byte[] mask = new byte[4];
                if ((b1 & 0x80) != 0)
                    frames.readFully(mask);
                byte[] payload = new byte[(int) length];
                frames.readFully(payload);
                for (int i = 0; i < payload.length; i++)
                    payload[i] ^= mask[i % 4];
                int opcode = b0 & 0x0F;
                if (opcode == 0x8) {
                    int code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
                    closes.add(code + " " + new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8));
                    writeFrame(out, 0x88, payload);
                    return;
                }
                // Echo text, binary and continuation frames as they came; answer a ping with a pong.
                writeFrame(out, opcode == 0x9 ? 0x8A : b0, payload);
            }
        }

        private static void writeFrame(OutputStream out, int b0, byte[] payload) throws IOException {
            ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 10);
            frame.write(b0);
            if (payload.length < 126) {
                frame.write(payload.length);
            } else if (payload.length < 65_536) {
                frame.write(126);
                frame.write(payload.length >> 8);
                frame.write(payload.length);
            } else {
                frame.write(127);
                for (int shift = 56; shift >= 0; shift -= 8)
                    frame.write((int) ((long) payload.length >> shift));
            }
            frame.write(payload);
            out.write(frame.toByteArray());
        }

        private static String header(String head, String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name))
                    return line.substring(colon + 1).trim();
            }
            return null;
        }

        private static String accept(String key) {
            try {
                byte[] sha1 = MessageDigest.getInstance("SHA-1").digest(ascii(key + WEBSOCKET_GUID));
                return Base64.getEncoder().encodeToString(sha1);
            } catch (NoSuchAlgorithmException x) {
                throw new IllegalStateException(x);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
