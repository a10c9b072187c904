package dev.tandem.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.tandem.config.ProxyCertificate;
import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyPool;
import dev.tandem.config.ProxyRoute;
import dev.tandem.health.TrustAnyCertificate;
import dev.tandem.proxy.pool.BackendPool;
import dev.tandem.proxy.pool.Pools;
import dev.tandem.proxy.route.RouteTable;
import dev.tandem.proxy.tls.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy in one JVM, with small JDK HTTP servers as members and the JDK's HTTP client. */
class ProxyServerTest {
    @TempDir
    Path dir;

    private final List<HttpServer> backends = new ArrayList<>();
    private final Pools pools = new Pools();
    private final AtomicReference<ProxyState> state = new AtomicReference<>(ProxyState.EMPTY);
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private ProxyServer server;
    private int port;
    private final AtomicReference<Map<String, List<String>>> lastHeaders = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        server = new ProxyServer(state::get, dir.resolve("access.log"));
        port = freePort();
    }

    @AfterEach
    void stop() {
        server.close();
        backends.forEach(b -> b.stop(0));
    }

    @Test
    void routesByHostAndAddsForwardingHeaders() throws Exception {
        String a = backend("a");
        apply(config(List.of(new ProxyRoute("www", List.of("www.test"), "/", "www")), pool("www", member("a", a, "site-a"))), List.of());
        Reply r = get("www.test", "/hello?x=1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("a /hello?x=1");
        Map<String, List<String>> seen = lastHeaders.get();
        assertThat(seen.get("X-forwarded-for")).containsExactly("127.0.0.1");
        assertThat(seen.get("X-forwarded-proto")).containsExactly("http");
        assertThat(seen.get("X-forwarded-host")).containsExactly("www.test:" + port);
        assertThat(seen.get("Forwarded")).containsExactly("for=127.0.0.1;proto=http;host=\"www.test:" + port + "\"");
        assertThat(seen.get("Host")).as("the member sees the client's host").containsExactly("www.test:" + port);
        assertThat(get("other.test", "/").statusCode()).isEqualTo(404);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(accessLog())
                .contains("\"GET www.test /hello?x=1 HTTP/1.1\" 200", "www/a"));
    }

    @Test
    void aGetOnADeadMemberIsRetriedOnAnotherAndTheMemberIsEjected() throws Exception {
        String dead = "127.0.0.1:" + freePort();
        String b = backend("b");
        apply(config(anyHost("www"), pool("www", member("dead", dead, "site-a"), member("b", b, "site-b"))), List.of());
        for (int i = 0; i < 5; i++) {
            Reply r = get("x", "/");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("b /");
        }
        assertThat(member("www", "dead").state().isEjected()).as("3 failures in a row eject it").isTrue();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(accessLog()).contains("retried after www/dead"));
    }

    @Test
    void aPostOnADeadMemberIsNotRetried() throws Exception {
        String dead = "127.0.0.1:" + freePort();
        apply(config(anyHost("www"), pool("www", member("dead", dead, "site-a"), member("b", backend("b"), "site-b"))), List.of());
        HttpResponse<String> r = client.send(request("/").POST(HttpRequest.BodyPublishers.ofString("pay once")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(502);
    }

    @Test
    void withNoUsableMemberTheAnswerIs503() throws Exception {
        apply(config(anyHost("www"), pool("www", member("a", backend("a"), "site-a").withDrained(true))), List.of());
        assertThat(get("x", "/").statusCode()).isEqualTo(503);
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        ProxyConfig proxy = config(anyHost("www"), pool("www", member("a", backend("a"), "site-a")));
        proxy = new ProxyConfig(proxy.httpPort(), null, null, null, new ProxyConfig.Limits(null, null, 1000L), null, proxy.routes(),
                proxy.pools(), null);
        apply(proxy, List.of());
        HttpResponse<String> r = client.send(request("/").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[2000])).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        HttpResponse<String> small = client.send(request("/").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[500])).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(small.statusCode()).isEqualTo(200);
    }

    @Test
    void aConfigChangeKeepsOpenConnectionsAndTakesEffectAtOnce() throws Exception {
        String a = backend("a");
        String b = backend("b");
        apply(config(anyHost("www"), pool("www", member("a", a, "site-a"))), List.of());
        try (Socket s = new Socket("127.0.0.1", port)) {
            assertThat(rawGet(s)).endsWith("a /");
            apply(config(anyHost("www"), pool("www", member("b", b, "site-a"))), List.of());
            assertThat(rawGet(s)).as("same connection, new member").endsWith("b /");
        }
    }

    @Test
    void tlsPicksTheCertificateBySniAndSpeaksHttp2() throws Exception {
        ProxyCertificate one = TestCertificates.selfSigned("one", "one.test", "127.0.0.1");
        ProxyCertificate two = TestCertificates.selfSigned("two", "two.test", "*.two.test");
        int httpsPort = freePort();
        ProxyConfig base = config(anyHost("www"), pool("www", member("a", backend("a"), "site-a")));
        apply(new ProxyConfig(port, httpsPort, null, null, null, List.of(one, two), base.routes(), base.pools(), null), List.of());
        assertThat(certificateFor("one.test", httpsPort)).isEqualTo("CN=one.test");
        assertThat(certificateFor("api.two.test", httpsPort)).isEqualTo("CN=two.test");

        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new TrustAnyCertificate()}, null);
        HttpClient h2 = HttpClient.newBuilder().sslContext(trustAll).version(HttpClient.Version.HTTP_2).build();
        HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + httpsPort + "/h2")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(r.body()).isEqualTo("a /h2");
        assertThat(lastHeaders.get().get("X-forwarded-proto")).containsExactly("https");
        assertThat(lastHeaders.get().get("Host")).as("from :authority").containsExactly("127.0.0.1:" + httpsPort);
    }

    @Test
    void malformedAndSmuggledRequestsGet400AndTheConnectionClosesWhileOthersAreServed() throws Exception {
        apply(config(anyHost("www"), pool("www", member("a", backend("a"), "site-a"))), List.of());
        assertThat(raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
                .as("CL+TE smuggling").startsWith("HTTP/1.1 400");
        assertThat(raw("GARBAGE\u0001 / HTTP/9.9\r\n\r\n")).startsWith("HTTP/1.1 400");
        assertThat(raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(20_000) + "\r\n\r\n")).startsWith("HTTP/1.1 431");
        assertThat(get("x", "/").body()).isEqualTo("a /");
    }

    @Test
    void aClientThatStopsSendingIsCutAfterTheIdleTimeout() throws Exception {
        ProxyConfig base = config(anyHost("www"), pool("www", member("a", backend("a"), "site-a")));
        apply(new ProxyConfig(port, null, null, new ProxyConfig.Timeouts(null, Duration.ofMillis(500), null), null, null, base.routes(),
                base.pools(), null), List.of());
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)); // and nothing more
            assertThat(s.getInputStream().readAllBytes()).as("closed, not left waiting for the read timeout").isNotNull();
        }
        assertThat(get("x", "/").body()).isEqualTo("a /");
    }

    @Test
    void membersRepliesPassThroughUntouched() throws Exception {
        apply(config(anyHost("www"), pool("www", member("a", backend("a"), "site-a"))), List.of());
        String redirect = raw("GET /redirect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(redirect).as("the client follows redirects, not the proxy").startsWith("HTTP/1.1 302").contains("Location: /elsewhere");
        assertThat(raw("GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).contains("Set-Cookie: session=secret");
        get("x", "/after");
        assertThat(lastHeaders.get()).as("one client's cookie never reaches another's request").doesNotContainKey("Cookie");
        assertThat(lastHeaders.get()).as("the proxy asks for no encoding the client did not").doesNotContainKey("Accept-encoding");
    }

    @Test
    void anUploadExpecting100ContinueGoesThrough() throws Exception {
        apply(config(anyHost("www"), pool("www", member("a", backend("a"), "site-a"))), List.of());
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder interim = new StringBuilder();
            while (!interim.toString().endsWith("\r\n\r\n")) interim.append((char) in.read());
            assertThat(interim.toString()).startsWith("HTTP/1.1 100");
            s.getOutputStream().write(new byte[3000]);
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("a /up 3000");
        }
    }

    /** Sends the bytes, reads until the proxy closes the connection: a malformed request must not leave it open. */
    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** The access log is written in the background: what it holds so far. */
    private String accessLog() throws IOException {
        Path log = dir.resolve("access.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private String certificateFor(String sni, int httpsPort) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new TrustAnyCertificate()}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", httpsPort)) {
            SSLParameters params = socket.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(sni)));
            socket.setSSLParameters(params);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    private static String rawGet(Socket s) throws IOException {
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return readResponse(s.getInputStream());
    }

    /** One response with a Content-Length, leaving the connection open. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.read());
        int length = Integer.parseInt(head.toString().replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
        return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }

    private void apply(ProxyConfig proxy, List<String> preference) throws Exception {
        Map<String, BackendPool> built = pools.build(proxy, Pools.siteOrder("site-a", preference, List.of("site-a", "site-b")), m -> true);
        state.set(new ProxyState(new RouteTable(proxy.routes(), built), built, proxy, 1));
        server.apply(new ProxyServer.Listeners("127.0.0.1", proxy.httpPort(), proxy.httpsPort(), proxy.certificates(), proxy.limits(),
                proxy.timeouts()), true);
    }

    private dev.tandem.proxy.pool.Backend member(String pool, String name) {
        return state.get().pools().get(pool).members().stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
    }

    private ProxyConfig config(List<ProxyRoute> routes, ProxyPool pool) {
        return new ProxyConfig(port, null, null, new ProxyConfig.Timeouts(Duration.ofSeconds(2), null, null), null, null, routes, List.of(pool), null);
    }

    private static List<ProxyRoute> anyHost(String pool) {
        return List.of(new ProxyRoute(pool, List.of(), "/", pool));
    }

    private static ProxyPool pool(String name, ProxyPool.Member... members) {
        // checks off: these tests are about traffic; the check's own tests are elsewhere
        return new ProxyPool(name, null, List.of(members), new ProxyPool.Check(false, null, null, null, null, null, null),
                new ProxyPool.Passive(3, Duration.ofSeconds(30)));
    }

    private static ProxyPool.Member member(String name, String address, String site) {
        return new ProxyPool.Member(name, address, site, 1, false);
    }

    private record Reply(int statusCode, String body) {}

    /** A GET with this Host header (which the JDK's client will not send), on its own connection. */
    private Reply get(String host, String path) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(reply.substring(9, 12));
            return new Reply(status, reply.substring(reply.indexOf("\r\n\r\n") + 4));
        }
    }

    /** Requests through the JDK's client; the host is the proxy's address, which the any-host routes take. */
    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
    }

    /** A member that answers "NAME PATH?QUERY" and remembers the headers it was sent. */
    private String backend(String name) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", exchange -> {
            lastHeaders.set(Map.copyOf(exchange.getRequestHeaders()));
            int length = exchange.getRequestBody().readAllBytes().length;
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/redirect")) {
                exchange.getResponseHeaders().add("Location", "/elsewhere");
                exchange.sendResponseHeaders(302, -1);
                exchange.close();
                return;
            }
            if (path.equals("/login")) exchange.getResponseHeaders().add("Set-Cookie", "session=secret; Path=/");
            byte[] body = (name + " " + exchange.getRequestURI() + (length > 0 ? " " + length : "")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        s.start();
        backends.add(s);
        return "127.0.0.1:" + s.getAddress().getPort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
