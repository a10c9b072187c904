package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ProxyCertificate;
import dev.tandem.config.ProxyConfig;
import dev.tandem.config.ProxyRoute;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The reverse proxy of a real three-node cluster (processes on loopback addresses), used by real
 * clients: curl for routing by host and path, failover when a member dies, a drain during a long
 * upload (driven over SSH with the admin shell), TLS with SNI names and HTTP/2 (and a certificate
 * added by a commit), the retry of a GET (and not of a POST) on a dead member, malformed requests, and
 * a member's redirects, cookies and 100-continue reaching the client as they are; the JDK's WebSocket
 * client for an upgrade passed through. The backends are small servers inside this JVM, so the test
 * can stop and start them and see exactly what reached them.
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxySystemTest {
    private static final int FIRST_PORT = 29800;
    private static final int HTTP_PORT = 29880;
    private static final int HTTPS_PORT = 29843;
    private static final String SITE_A = "site-a";
    private static final String SITE_B = "site-b";
    private static final String BACKEND_A = "127.0.51.10";
    private static final String BACKEND_B = "127.0.52.10";
    private static final int WWW_PORT = 8000;
    private static final int API_PORT = 8001;
    /** Nothing listens here at site-a: the retry pool's dead member. */
    private static final int RETRY_PORT = 8002;
    private static final int WS_PORT = 8003;
    private static final int UPLOAD_BYTES = 30 * 1024 * 1024;
    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path work;
    private static Loopback hosts;
    private static TandemSites cluster;
    private static Path adminKey;
    private static Path knownHosts;
    /** "pool site" (e.g. "www site-a") → the member's server. */
    private static final Map<String, HttpBackend> backends = new LinkedHashMap<>();
    private static final List<WebSocketEcho> echoes = new ArrayList<>();

    /** On a failure, what the nodes said last, and the proxies' access logs. */
    @RegisterExtension
    static final TestWatcher LOGS = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster == null) return;
            StringBuilder out = new StringBuilder("\n=== " + context.getDisplayName() + " failed; node logs:" + cluster.logTails());
            for (String node : List.of("a1", "b1")) {
                out.append("\n--- ").append(accessLog(node)).append(" ---\n").append(TestFiles.tail(accessLog(node), 20));
            }
            System.err.println(out);
        }
    };

    @BeforeAll
    static void startCluster() throws Exception {
        List<String> missing = List.of("curl", "openssl", "ssh", "ssh-keygen").stream().filter(t -> !TestFiles.onPath(t)).toList();
        assumeTrue(missing.isEmpty(), "skipped: the proxy system test needs curl, openssl and the OpenSSH client "
                + "(apt-get install curl openssl openssh-client); missing: " + missing);
        work = TandemSites.ROOT.resolve("tests/target/system-proxy");
        TestFiles.deleteRecursively(work);
        Files.createDirectories(work);
        adminKey = work.resolve("admin_key");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin", "-f", adminKey.toString()));
        // one EC and one RSA key in the first document; a third certificate goes in by a commit (case 4)
        selfSigned("one", "ec");
        selfSigned("two", "rsa:2048");
        selfSigned("three", "ec");

        hosts = new Loopback(51, List.of(SITE_A, SITE_B, "site-c"));
        // the JDK server writes a reply's head and body apart: with Nagle and delayed ACKs each reply would take 40 ms
        System.setProperty("sun.net.httpserver.nodelay", "true");
        for (String pool : List.of("www", "api")) {
            int port = pool.equals("www") ? WWW_PORT : API_PORT;
            startBackend(pool, SITE_A, new InetSocketAddress(BACKEND_A, port));
            startBackend(pool, SITE_B, new InetSocketAddress(BACKEND_B, port));
        }
        startBackend("retry", SITE_B, new InetSocketAddress(BACKEND_B, RETRY_PORT));
        echoes.add(new WebSocketEcho("ws site-a", new InetSocketAddress(BACKEND_A, WS_PORT)));
        echoes.add(new WebSocketEcho("ws site-b", new InetSocketAddress(BACKEND_B, WS_PORT)));

        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("a1", SITE_A);
        nodes.put("b1", SITE_B);
        nodes.put("w1", "site-c");
        cluster = new TandemSites(hosts, work, nodes, FIRST_PORT, proxyYaml(), adminKey.resolveSibling("admin_key.pub"));
        cluster.startAll();
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> cluster.nodes().stream().allMatch(n -> {
            var status = cluster.status(n);
            return Files.exists(cluster.hostKey(n)) && status != null && status.path("applied_version").asLong() == 1
                    && status.get("leader") != null;
        }));
        StringBuilder known = new StringBuilder();
        for (String n : cluster.nodes()) {
            known.append("[").append(cluster.address(n)).append("]:").append(TandemSites.sshPort(FIRST_PORT)).append(' ')
                    .append(Files.readString(cluster.hostKey(n)).trim()).append('\n');
        }
        knownHosts = Files.writeString(work.resolve("known_hosts"), known);
        // both proxies listen and route
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
            assertThat(get("a1", "www.sys.test", "/").member()).isEqualTo("www site-a");
            assertThat(get("b1", "www.sys.test", "/").member()).isEqualTo("www site-b");
        });
    }

    @AfterAll
    static void stopEverything() {
        backends.values().forEach(HttpBackend::stop);
        echoes.forEach(WebSocketEcho::close);
        if (cluster != null) cluster.close();
        if (hosts != null) hosts.close();
    }

    private static String proxyYaml() throws IOException {
        return """
                proxy:
                  http_port: %d
                  https_port: %d
                  routes:
                    - {name: www, hosts: [www.sys.test], path: /, pool: www}
                    - {name: api, hosts: [www.sys.test], path: /api/, pool: api}
                    - {name: tls, hosts: [one.sys.test, two.sys.test], path: /, pool: www}
                    - {name: retry, hosts: [retry.sys.test], path: /, pool: retry}
                    - {name: ws, hosts: [], path: /ws, pool: ws}
                  pools:
                %s%s%s%s
                  certificates:
                %s%s""".formatted(HTTP_PORT, HTTPS_PORT,
                pool("www", WWW_PORT, "{path: /, interval: 1s, timeout: 500ms, fall: 2, rise: 2}"),
                pool("api", API_PORT, "{path: /, interval: 1s, timeout: 500ms, fall: 2, rise: 2}"),
                // no active check: the proxy believes the dead member up, so only real traffic finds it dead
                pool("retry", RETRY_PORT, "{enabled: false}"),
                pool("ws", WS_PORT, "{path: /, interval: 1s, timeout: 500ms, fall: 2, rise: 2}"),
                certificate("one"), certificate("two"));
    }

    private static String pool(String name, int port, String check) {
        return """
                    - name: %1$s
                      members:
                        - {name: site-a, address: "%2$s:%4$d", site: site-a}
                        - {name: site-b, address: "%3$s:%4$d", site: site-b}
                      check: %5$s
                """.formatted(name, BACKEND_A, BACKEND_B, port, check);
    }

    private static String certificate(String name) throws IOException {
        return "    - name: " + name + "\n"
                + "      cert: |\n" + indent(Files.readString(work.resolve(name + ".pem")), "        ")
                + "      key: |\n" + indent(Files.readString(work.resolve(name + ".key")), "        ");
    }

    private static String indent(String pem, String prefix) {
        StringBuilder out = new StringBuilder();
        for (String line : pem.strip().split("\n")) out.append(prefix).append(line).append('\n');
        return out.toString();
    }

    /**
     * NAME.pem and NAME.key: a self-signed certificate for NAME.sys.test, its own CA for curl.
     *
     * @param key {@code rsa:2048}, or {@code ec} for P-256
     */
    private static void selfSigned(String name, String key) throws IOException {
        String host = name + ".sys.test";
        List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-newkey", key));
        if (key.equals("ec")) command.addAll(List.of("-pkeyopt", "ec_paramgen_curve:prime256v1"));
        command.addAll(List.of("-nodes", "-days", "2", "-subj", "/CN=" + host, "-addext", "subjectAltName=DNS:" + host,
                "-keyout", work.resolve(name + ".key").toString(), "-out", work.resolve(name + ".pem").toString()));
        run(command);
    }

    // --- 1. routing ----------------------------------------------------------------------------

    @Test
    @Order(1)
    void eachProxyRoutesByHostAndPathToItsOwnSitesMember() throws Exception {
        for (String node : List.of("a1", "b1")) {
            String site = cluster.site(node);
            for (int i = 0; i < 5; i++) {
                assertThat(get(node, "www.sys.test", "/").member()).as("www via " + node).isEqualTo("www " + site);
                assertThat(get(node, "www.sys.test", "/api/items?x=1").member()).as("api via " + node).isEqualTo("api " + site);
            }
            // the path prefix is /api/, so /apiary is still the www route's
            assertThat(get(node, "www.sys.test", "/apiary").member()).isEqualTo("www " + site);
            assertThat(get(node, "WWW.Sys.Test", "/").member()).as("host names compare without case").isEqualTo("www " + site);
            Reply unknown = get(node, "nope.sys.test", "/");
            assertThat(unknown.status()).as(unknown.toString()).isEqualTo(404);
            assertThat(unknown.member()).isNull();
        }
        // the member sees who asked and under which name
        HttpBackend www = backends.get("www site-a");
        get("a1", "www.sys.test", "/whoami");
        assertThat(www.lastHeaders.get("x-forwarded-host")).isEqualTo("www.sys.test:" + HTTP_PORT);
        assertThat(www.lastHeaders.get("x-forwarded-proto")).isEqualTo("http");
        assertThat(www.lastHeaders.get("x-forwarded-for")).isEqualTo("127.0.0.1");
        ProcessRun.Result show = ssh("a1", "show proxy");
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("listening: http " + cluster.address("a1") + ":" + HTTP_PORT)
                .contains("https " + cluster.address("a1") + ":" + HTTPS_PORT);
    }

    // --- 2. failover ---------------------------------------------------------------------------

    @Test
    @Order(2)
    void whenSiteAsMemberDiesEveryRequestStillSucceedsAndGoesToSiteBThenBackToSiteA() throws Exception {
        Traffic traffic = new Traffic("a1", "www.sys.test", "/");
        traffic.start();
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(traffic.since(0)).hasSizeGreaterThan(10)
                    .last().isEqualTo("200 www site-a"));
            HttpBackend siteA = backends.get("www site-a");
            int stopped = traffic.size();
            assertThat(traffic.since(0).subList(0, stopped)).containsOnly("200 www site-a");
            siteA.stop();
            long killed = System.nanoTime();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(lastAfter(traffic, stopped, 10)).containsOnly("200 www site-b"));
            long downMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                JsonNode row = member(ssh("a1", "show proxy --json"), "www", SITE_A);
                // a1 may still hold it ejected by failed traffic (10 s); either way it takes nothing, and both checkers saw it down
                assertThat(row.path("state").asText()).as(row.toString()).matches("(down|ejected): .*");
                assertThat(row.path("last_check").asText()).as(row.toString()).contains("connection refused");
                assertThat(row.path("other_proxies").asText()).as(row.toString()).contains("b1: down: connection refused");
            });

            int restarted = traffic.size();
            siteA.start();
            long started = System.nanoTime();
            // rise 2 at 1 s, and whatever is left of a passive ejection (10 s)
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThat(lastAfter(traffic, restarted, 10)).containsOnly("200 www site-a"));
            long upMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            Files.writeString(work.resolve("failover.txt"), "proxy: a1 sent all of www to site-b within " + downMillis
                    + " ms of site-a's member stopping, to site-a again within " + upMillis + " ms of its return "
                    + "(check interval 1s, fall 2, rise 2; passive ejection 10s)\n");
        } finally {
            traffic.stop();
        }
        List<String> all = traffic.since(0);
        assertThat(all).as("every request through the failover succeeds").allMatch(r -> r.startsWith("200 "));
        assertThat(traffic.problems).as("curl itself").isEmpty();
        assertThat(all).contains("200 www site-b");
    }

    private static List<String> lastAfter(Traffic traffic, int from, int count) {
        List<String> after = traffic.since(from);
        assertThat(after).as("replies since the change").hasSizeGreaterThanOrEqualTo(count);
        return after.subList(after.size() - count, after.size());
    }

    // --- 3. drain ------------------------------------------------------------------------------

    @Test
    @Order(3)
    void aDrainWaitsForTheUploadInFlightWhileNewRequestsGoToSiteB() throws Exception {
        HttpBackend apiA = backends.get("api site-a");
        assertThat(get("a1", "www.sys.test", "/api/").member()).isEqualTo("api site-a");
        Path file = work.resolve("upload.bin");
        byte[] data = new byte[UPLOAD_BYTES];
        new Random(51).nextBytes(data);
        Files.write(file, data);
        apiA.bodyBytes.set(0);
        Path uploadOut = work.resolve("upload.out");
        // 4 MB/s: about 7 s in flight, long enough to drain during it; curl asks for 100-continue first (its default above 1 MB)
        Process upload = new ProcessBuilder("curl", "-sS", "--noproxy", "*", "--max-time", "120", "--limit-rate", "4M",
                "-X", "POST", "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + file,
                "--resolve", "www.sys.test:" + HTTP_PORT + ":" + cluster.address("a1"), "-w", "\n%{http_code}",
                "http://www.sys.test:" + HTTP_PORT + "/api/upload")
                .redirectOutput(uploadOut.toFile()).redirectError(work.resolve("upload.err").toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> assertThat(apiA.bodyBytes.get()).as("bytes of the upload at api site-a").isGreaterThan(1 << 20));

            // from b1: it must learn of a1's request in flight through the cluster
            Streamed drain = Streamed.start(sshCommand("b1", "proxy drain api site-a --wait 60"));
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(get("a1", "www.sys.test", "/api/").member()).isEqualTo("api site-b"));
            for (int i = 0; i < 5; i++) assertThat(get("a1", "www.sys.test", "/api/n" + i).member()).isEqualTo("api site-b");
            assertThat(upload.isAlive()).as("the upload should still be running while the drain is in effect").isTrue();
            assertThat(drain.process.isAlive()).as("the drain returned while the upload was in flight: " + drain.lines).isTrue();

            assertThat(upload.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(upload.exitValue()).as(TestFiles.read(work.resolve("upload.err"))).isZero();
            assertThat(TestFiles.read(uploadOut)).isEqualTo("api site-a received " + UPLOAD_BYTES + " bytes\n200");
            long bodyRead = apiA.bodyReadAt;

            assertThat(drain.process.waitFor(70, TimeUnit.SECONDS)).as("drain output so far: " + drain.lines).isTrue();
            assertThat(drain.process.exitValue()).as(drain.err()).isZero();
            List<String> lines = drain.lines.stream().map(Line::text).toList();
            Files.write(work.resolve("drain.out"), lines);
            assertThat(lines.get(0)).as(lines.toString()).matches("version \\d+: member site-a of pool api takes no new requests");
            int busy = indexOfMatch(lines, Pattern.compile("in flight: (.*, )?a1 1(,.*)?"));
            assertThat(busy).as("the drain should have reported a1's request in flight: " + lines).isPositive();
            Line idle = drain.lines.get(drain.lines.size() - 1);
            assertThat(idle.text()).as(lines.toString()).isEqualTo("api/site-a is idle on a1, b1: it can be stopped");
            assertThat(idle.nanos() - bodyRead).as("the idle line must come after site-a's member had read the whole upload; " + lines)
                    .isPositive();
        } finally {
            if (upload.isAlive()) upload.destroyForcibly();
        }

        ProcessRun.Result undrain = ssh("a1", "proxy undrain api site-a");
        assertThat(undrain.exit()).as(undrain.err()).isZero();
        assertThat(undrain.out()).containsPattern("version \\d+: member site-a of pool api takes requests again");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(get("a1", "www.sys.test", "/api/").member()).isEqualTo("api site-a"));
    }

    private static int indexOfMatch(List<String> lines, Pattern p) {
        for (int i = 0; i < lines.size(); i++) if (p.matcher(lines.get(i)).matches()) return i;
        return -1;
    }

    // --- 4. TLS --------------------------------------------------------------------------------

    @Test
    @Order(4)
    void eachSniNameGetsItsOwnCertificateOverHttp2() throws Exception {
        for (String node : List.of("a1", "b1")) {
            for (String name : List.of("one", "two")) {
                String host = name + ".sys.test";
                // curl trusts nothing but this name's certificate: a success proves the SNI choice
                ProcessRun.Result h2 = curl("--http2", "--cacert", work.resolve(name + ".pem").toString(),
                        "--resolve", host + ":" + HTTPS_PORT + ":" + cluster.address(node),
                        "-w", "\n%{http_version} %{http_code}", "https://" + host + ":" + HTTPS_PORT + "/");
                assertThat(h2.exit()).as(h2.err()).isZero();
                assertThat(h2.out()).isEqualTo("www " + cluster.site(node) + "\n2 200");
                ProcessRun.Result h1 = curl("--http1.1", "--cacert", work.resolve(name + ".pem").toString(),
                        "--resolve", host + ":" + HTTPS_PORT + ":" + cluster.address(node),
                        "-w", "\n%{http_version} %{http_code}", "https://" + host + ":" + HTTPS_PORT + "/");
                assertThat(h1.out()).as(h1.err()).isEqualTo("www " + cluster.site(node) + "\n1.1 200");
                String other = name.equals("one") ? "two" : "one";
                ProcessRun.Result wrong = curl("--cacert", work.resolve(other + ".pem").toString(),
                        "--resolve", host + ":" + HTTPS_PORT + ":" + cluster.address(node), "https://" + host + ":" + HTTPS_PORT + "/");
                assertThat(wrong.exit()).as("%s verified against %s's certificate: %s", host, other, wrong.err()).isEqualTo(60);
            }
        }
        assertThat(backends.get("www site-a").lastHeaders.get("x-forwarded-proto")).isEqualTo("https");

        // an EC (P-256) certificate for a third name, committed while the proxies run: served without a restart
        ProcessRun.Result export = ssh("a1", "show config --yaml");
        assertThat(export.exit()).as(export.err()).isZero();
        ClusterConfig config = ConfigCodec.readYaml(export.out());
        ProxyConfig proxy = config.proxy();
        List<ProxyCertificate> certificates = new ArrayList<>(proxy.certificates());
        certificates.add(new ProxyCertificate("three", TestFiles.read(work.resolve("three.pem")), TestFiles.read(work.resolve("three.key"))));
        List<ProxyRoute> routes = proxy.routes().stream().map(r -> r.name().equals("tls")
                ? new ProxyRoute(r.name(), List.of("one.sys.test", "two.sys.test", "three.sys.test"), r.path(), r.pool()) : r).toList();
        ClusterConfig next = config.withProxy(new ProxyConfig(proxy.httpPort(), proxy.httpsPort(), proxy.sitePreference(),
                proxy.timeouts(), proxy.limits(), certificates, routes, proxy.pools(), proxy.accessLog()));
        Path document = Files.writeString(work.resolve("with-ec-certificate.yaml"), ConfigCodec.toYaml(next));
        ProcessRun.Result commit = ssh("a1", "configure load - commit comment \"an EC certificate\"", document);
        assertThat(commit.exit()).as("committing an EC certificate: %s%s", commit.out(), commit.err()).isZero();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            for (String node : List.of("a1", "b1")) {
                ProcessRun.Result ec = curl("--http2", "--cacert", work.resolve("three.pem").toString(),
                        "--resolve", "three.sys.test:" + HTTPS_PORT + ":" + cluster.address(node),
                        "-w", "\n%{http_version} %{http_code}", "https://three.sys.test:" + HTTPS_PORT + "/");
                assertThat(ec.out()).as(node + ": " + ec.err()).isEqualTo("www " + cluster.site(node) + "\n2 200");
            }
        });
    }

    // --- 5. retry ------------------------------------------------------------------------------

    @Test
    @Order(5)
    void aGetIsRetriedOnAnotherMemberWhenItsConnectionFailsButAPostIsNot() throws Exception {
        // the POST first: the member is then one failure short of being ejected, and the GET still tries it
        ProcessRun.Result post = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "order=1",
                "--resolve", "retry.sys.test:" + HTTP_PORT + ":" + cluster.address("a1"), "http://retry.sys.test:" + HTTP_PORT + "/order");
        assertThat(post.out()).as(post.err()).isEqualTo("502");
        assertThat(backends.get("retry site-b").requests.get()).as("requests that reached the live member").isZero();

        Reply got = get("a1", "retry.sys.test", "/fetch");
        assertThat(got.status()).as(got.toString()).isEqualTo(200);
        assertThat(got.member()).isEqualTo("retry site-b");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            String log = TestFiles.read(accessLog("a1"));
            assertThat(log).containsPattern("\"GET retry\\.sys\\.test /fetch HTTP/1\\.1\" 200 .* retry/site-b " + Pattern.quote(BACKEND_B)
                    + ":" + RETRY_PORT + " retried after retry/site-a\n");
            assertThat(log).containsPattern("\"POST retry\\.sys\\.test /order HTTP/1\\.1\" 502 .* retry/site-a " + Pattern.quote(BACKEND_A)
                    + ":" + RETRY_PORT + "\n");
        });
    }

    // --- 6. WebSocket --------------------------------------------------------------------------

    @Test
    @Order(6)
    void aWebSocketIsPassedThroughAndEchoes() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> allBack = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    received.add(partial.toString());
                    partial.setLength(0);
                    if (received.size() == 3) allBack.complete(null);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                allBack.completeExceptionally(new IOException("closed by the other end: " + status + " " + reason));
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                allBack.completeExceptionally(error);
            }
        };
        HttpClient client = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(10)).build();
        URI uri = URI.create("ws://" + cluster.address("a1") + ":" + HTTP_PORT + "/ws/echo");
        WebSocket ws;
        try {
            ws = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10)).buildAsync(uri, listener).get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException h) {
                throw new AssertionError("the WebSocket handshake through the proxy failed: HTTP " + h.getResponse().statusCode()
                        + " " + h.getResponse().headers().map() + " " + h.getResponse().body(), h);
            }
            throw e;
        }
        List<String> sent = List.of("hello", "é ünïcode ✓", "x".repeat(70_000));
        for (String message : sent) ws.sendText(message, true).get(10, TimeUnit.SECONDS);
        allBack.get(20, TimeUnit.SECONDS);
        assertThat(received).containsExactlyElementsOf(sent);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        assertThat(echoes.get(0).upgrades.get()).as("upgrades at site-a's member (a1's own site)").isEqualTo(1);
        assertThat(echoes.get(1).upgrades.get()).as("upgrades at site-b's member").isZero();
    }

    // --- 7. malformed requests -----------------------------------------------------------------

    @Test
    @Order(7)
    void malformedRequestsGet400AndTheProxyServesOnAfterwards() throws Exception {
        int apiRequests = backends.get("api site-a").requests.get() + backends.get("api site-b").requests.get();
        // both lengths: a request smuggling attempt, refused, and the connection with it
        String smuggled = raw("a1", "POST /api/x HTTP/1.1\r\nHost: www.sys.test\r\nContent-Length: 5\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                + "GET /api/smuggled HTTP/1.1\r\nHost: www.sys.test\r\n\r\n");
        assertThat(smuggled).startsWith("HTTP/1.1 400 ");
        assertThat(smuggled.split("HTTP/1\\.1 ", -1)).as("one reply only:\n" + smuggled).hasSize(2);
        String garbage = raw("a1", "GARBAGE\r\n\r\n");
        assertThat(garbage).matches("(?s)HTTP/1\\.[01] 400 .*");
        assertThat(backends.get("api site-a").requests.get() + backends.get("api site-b").requests.get())
                .as("requests that reached an api member").isEqualTo(apiRequests);
        assertThat(get("a1", "www.sys.test", "/").member()).isEqualTo("www site-a");
    }

    // --- 8. what the member says reaches the client as it is --------------------------------

    @Test
    @Order(8)
    void repliesOfTheMemberPassThroughUntouched() throws Exception {
        HttpBackend www = backends.get("www site-a");
        List<String> problems = new ArrayList<>();

        // a redirect is the client's to follow, to the host it asked for, not the proxy's
        Reply redirect = get("a1", "www.sys.test", "/redirect");
        if (redirect.status() != 302) {
            problems.add("GET /redirect: the client got " + redirect.status() + " (" + redirect.body() + "), not the member's 302;"
                    + " the member then saw GET " + www.lastPath + " with Host " + www.lastHeaders.get("host"));
        }

        // one client's cookie never rides along on another client's request
        assertThat(get("a1", "www.sys.test", "/login").status()).isEqualTo(200);
        get("a1", "www.sys.test", "/whoami");
        if (www.lastHeaders.containsKey("cookie")) {
            problems.add("a client that sent no cookie reached the member with Cookie: " + www.lastHeaders.get("cookie")
                    + " (set by the member on another client's /login)");
        }

        // last, as the proxy may hold this request until its backend idle timeout: a client asking for 100-continue
        Path body = Files.writeString(work.resolve("expect.txt"), "x".repeat(100_000));
        www.bodyBytes.set(0);
        ProcessRun.Result expect = curl("--max-time", "10", "-H", "Expect: 100-continue", "--data-binary", "@" + body,
                "--resolve", "www.sys.test:" + HTTP_PORT + ":" + cluster.address("a1"), "-w", "\n%{http_code}",
                "http://www.sys.test:" + HTTP_PORT + "/expect");
        if (!expect.out().equals("www site-a received 100000 bytes\n200")) {
            problems.add("POST with Expect: 100-continue: curl exited " + expect.exit() + " " + expect.err().strip() + ", output "
                    + expect.out().replace("\n", " | ") + "; the member had read " + www.bodyBytes.get() + " bytes");
        }
        assertThat(problems).isEmpty();
    }

    /** Sends the bytes on a fresh connection and returns all that came back until the proxy closed it. */
    private static String raw(String node, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(cluster.address(node), HTTP_PORT), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = socket.getInputStream().read(buffer)) >= 0; ) reply.write(buffer, 0, n);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the proxy did not close the connection after: " + reply.toString(StandardCharsets.ISO_8859_1));
            }
            return reply.toString(StandardCharsets.ISO_8859_1);
        }
    }

    // --- clients -------------------------------------------------------------------------------

    /** One reply: its status, the member that answered ({@code X-Member}, null if none) and the body. */
    record Reply(int status, String member, String body) {}

    private static Reply get(String node, String host, String path) throws IOException {
        ProcessRun.Result r = curl("-D", "-", "--resolve", host + ":" + HTTP_PORT + ":" + cluster.address(node),
                "-w", "\n%{http_code}", "http://" + host + ":" + HTTP_PORT + path);
        if (r.exit() != 0) throw new IOException("curl exited " + r.exit() + ": " + r.err());
        String out = r.out();
        int end = out.lastIndexOf('\n');
        String member = null;
        int headersEnd = out.indexOf("\r\n\r\n");
        for (String header : out.substring(0, Math.max(0, headersEnd)).split("\r\n")) {
            if (header.toLowerCase(Locale.ROOT).startsWith("x-member:")) member = header.substring("x-member:".length()).trim();
        }
        return new Reply(Integer.parseInt(out.substring(end + 1).trim()), member, out.substring(headersEnd + 4, end));
    }

    private static ProcessRun.Result curl(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--noproxy", "*", "--max-time", "20"));
        command.addAll(List.of(args));
        return ProcessRun.run(command, Duration.ofSeconds(30));
    }

    /** curl in a loop, ten requests a connection, recording "STATUS MEMBER" for each, until stopped. */
    private static final class Traffic {
        private final List<String> command = new ArrayList<>();
        private final List<String> replies = new CopyOnWriteArrayList<>();
        final List<String> problems = new CopyOnWriteArrayList<>();
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::loop, "proxy-traffic");

        Traffic(String node, String host, String path) {
            command.addAll(List.of("curl", "-sS", "--noproxy", "*", "--max-time", "20",
                    "--resolve", host + ":" + HTTP_PORT + ":" + cluster.address(node), "-w", "%{http_code} %header{x-member}\n"));
            for (int i = 0; i < 10; i++) command.addAll(List.of("-o", "/dev/null", "http://" + host + ":" + HTTP_PORT + path));
        }

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        private void loop() {
            while (running) {
                try {
                    ProcessRun.Result r = ProcessRun.run(command, Duration.ofSeconds(60));
                    for (String line : r.out().split("\n")) if (!line.isBlank()) replies.add(line.trim());
                    if (r.exit() != 0) problems.add("curl exited " + r.exit() + ": " + r.err());
                } catch (IOException e) {
                    problems.add(e.toString());
                }
            }
        }

        int size() {
            return replies.size();
        }

        List<String> since(int index) {
            List<String> all = List.copyOf(replies);
            return all.subList(Math.min(index, all.size()), all.size());
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(70_000);
        }
    }

    // --- the admin shell -----------------------------------------------------------------------

    private static List<String> sshCommand(String node, String command) {
        return List.of("ssh", "-i", adminKey.toString(), "-p", Integer.toString(TandemSites.sshPort(FIRST_PORT)),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "ConnectTimeout=10", "admin@" + cluster.address(node), command);
    }

    private static ProcessRun.Result ssh(String node, String command) throws IOException {
        return ProcessRun.run(sshCommand(node, command), Duration.ofSeconds(60));
    }

    /** ssh with the file as its standard input (for {@code configure load -}). */
    private static ProcessRun.Result ssh(String node, String command, Path input) throws Exception {
        Path out = Files.createTempFile(work, "ssh-", ".out");
        Path err = Files.createTempFile(work, "ssh-", ".err");
        Process p = new ProcessBuilder(sshCommand(node, command)).redirectInput(input.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("ssh " + command + " did not finish in 60 s");
        }
        return new ProcessRun.Result(p.exitValue(), TestFiles.read(out), TestFiles.read(err));
    }

    /** The {@code show proxy --json} row of one member. */
    private static JsonNode member(ProcessRun.Result show, String pool, String member) throws IOException {
        if (show.exit() != 0) throw new AssertionError("show proxy exited " + show.exit() + ": " + show.err());
        for (JsonNode row : JSON.readTree(show.out()).path("members")) {
            if (row.path("pool").asText().equals(pool) && row.path("member").asText().equals(member)) return row;
        }
        throw new AssertionError("no member " + pool + "/" + member + " in:\n" + show.out());
    }

    record Line(long nanos, String text) {}

    /** A command whose output lines are recorded with the moment each arrived, while it runs. */
    private static final class Streamed {
        final Process process;
        final List<Line> lines = new CopyOnWriteArrayList<>();
        private final Path err;

        private Streamed(Process process, Path err) {
            this.process = process;
            this.err = err;
        }

        static Streamed start(List<String> command) throws IOException {
            Path err = Files.createTempFile(work, "streamed-", ".err");
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(err.toFile()).start();
            Streamed s = new Streamed(p, err);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) s.lines.add(new Line(System.nanoTime(), line));
                } catch (IOException e) {
                    s.lines.add(new Line(System.nanoTime(), "(reading failed: " + e + ")"));
                }
            }, "streamed-output");
            reader.setDaemon(true);
            reader.start();
            return s;
        }

        String err() {
            return TestFiles.read(err);
        }
    }

    // --- backends ------------------------------------------------------------------------------

    private static void startBackend(String pool, String site, InetSocketAddress address) throws IOException {
        HttpBackend b = new HttpBackend(pool + " " + site, address);
        b.start();
        backends.put(b.name, b);
    }

    /**
     * A pool member: reads (and counts) the whole request body, then answers with its name, in the
     * body and in {@code X-Member}; for a body, also the number of bytes it read. {@code /redirect}
     * answers 302, {@code /login} sets a cookie.
     */
    private static final class HttpBackend {
        final String name;
        private final InetSocketAddress address;
        /** Bytes of the request body being read now (or last read), for watching an upload arrive. */
        final AtomicLong bodyBytes = new AtomicLong();
        /** Requests other than the health checks'. */
        final AtomicInteger requests = new AtomicInteger();
        /** When the last non-empty body had been read to its end (System.nanoTime()). */
        volatile long bodyReadAt;
        volatile Map<String, String> lastHeaders = Map.of();
        volatile String lastPath;
        private HttpServer server;
        private ExecutorService threads;

        HttpBackend(String name, InetSocketAddress address) {
            this.name = name;
            this.address = address;
        }

        synchronized void start() throws IOException {
            // a thread per exchange: a slow upload must not hold up the health checks
            threads = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "backend " + name);
                t.setDaemon(true);
                return t;
            });
            server = HttpServer.create(address, 64);
            server.setExecutor(threads);
            server.createContext("/", this::serve);
            server.start();
        }

        synchronized void stop() {
            if (server == null) return;
            server.stop(0);
            threads.shutdownNow();
            server = null;
        }

        private void serve(HttpExchange exchange) throws IOException {
            try (exchange) {
                boolean check = "tandem-health-check".equals(exchange.getRequestHeaders().getFirst("User-Agent"));
                if (!check) {
                    requests.incrementAndGet();
                    Map<String, String> headers = new HashMap<>();
                    exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
                    lastHeaders = headers;
                    lastPath = exchange.getRequestURI().getPath();
                }
                if (exchange.getRequestURI().getPath().equals("/redirect")) {
                    exchange.getResponseHeaders().set("Location", "/elsewhere");
                    exchange.getResponseHeaders().set("X-Member", name);
                    exchange.sendResponseHeaders(302, -1);
                    return;
                }
                if (exchange.getRequestURI().getPath().equals("/login")) {
                    exchange.getResponseHeaders().add("Set-Cookie", "session=" + name.replace(' ', '-') + "-secret; Path=/");
                }
                long n = 0;
                InputStream in = exchange.getRequestBody();
                byte[] buffer = new byte[64 * 1024];
                for (int r; (r = in.read(buffer)) >= 0; ) {
                    n += r;
                    bodyBytes.set(n);
                }
                if (n > 0) bodyReadAt = System.nanoTime();
                byte[] body = (n > 0 ? name + " received " + n + " bytes" : name).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("X-Member", name);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        }
    }

    /**
     * A WebSocket member: the RFC 6455 server handshake, then every data frame echoed back unmasked,
     * pings answered, a close returned. A plain GET (the health check) gets 200 and its name.
     */
    private static final class WebSocketEcho implements AutoCloseable {
        private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
        private final String name;
        private final ServerSocket listener = new ServerSocket();
        final AtomicInteger upgrades = new AtomicInteger();

        WebSocketEcho(String name, InetSocketAddress address) throws IOException {
            this.name = name;
            listener.setReuseAddress(true);
            listener.bind(address, 50);
            daemon("accept " + name, this::acceptLoop);
        }

        private static void daemon(String name, Runnable task) {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            t.start();
        }

        private void acceptLoop() {
            while (!listener.isClosed()) {
                try {
                    Socket s = listener.accept();
                    daemon("serve " + name, () -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            try (socket) {
                InputStream in = new BufferedInputStream(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                line(in); // the request line: any path will do
                Map<String, String> headers = new HashMap<>();
                for (String l; !(l = line(in)).isEmpty(); ) {
                    int colon = l.indexOf(':');
                    if (colon > 0) headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
                }
                String key = headers.get("sec-websocket-key");
                if (!"websocket".equalsIgnoreCase(headers.get("upgrade")) || key == null) {
                    byte[] body = name.getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                    out.flush();
                    return;
                }
                upgrades.incrementAndGet();
                String accept = Base64.getEncoder().encodeToString(
                        MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII)));
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                while (true) {
                    int first = in.read();
                    int second = in.read();
                    if (first < 0 || second < 0) return;
                    int opcode = first & 0x0F;
                    long length = second & 0x7F;
                    if (length == 126) {
                        length = (in.read() << 8) | in.read();
                    } else if (length == 127) {
                        length = 0;
                        for (int i = 0; i < 8; i++) length = (length << 8) | in.read();
                    }
                    byte[] mask = (second & 0x80) != 0 ? in.readNBytes(4) : new byte[4];
                    byte[] payload = in.readNBytes((int) length);
                    if (payload.length < length) return;
                    for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
                    switch (opcode) {
                        case 0x0, 0x1, 0x2 -> frame(out, first & 0x8F, payload); // continuation, text, binary: as they came
                        case 0x9 -> frame(out, 0x8A, payload); // ping: pong
                        case 0x8 -> {
                            frame(out, 0x88, payload);
                            return;
                        }
                        default -> { } // pong: nothing to do
                    }
                }
            } catch (IOException | NoSuchAlgorithmException e) {
                // the client went away: nothing to echo to
            }
        }

        private static void frame(OutputStream out, int first, byte[] payload) throws IOException {
            out.write(first);
            if (payload.length < 126) {
                out.write(payload.length);
            } else if (payload.length < 65536) {
                out.write(126);
                out.write(payload.length >> 8);
                out.write(payload.length & 0xFF);
            } else {
                out.write(127);
                for (int i = 7; i >= 0; i--) out.write((int) ((long) payload.length >> (8 * i)) & 0xFF);
            }
            out.write(payload);
            out.flush();
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) throw new IOException("end of stream in the request head");
                if (c != '\r') line.append((char) c);
            }
            return line.toString();
        }

        @Override
        public void close() {
            try {
                listener.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    // --- files and tools -----------------------------------------------------------------------

    private static Path accessLog(String node) {
        return work.resolve("nodes").resolve(node).resolve("proxy-access.log");
    }

    private static void run(List<String> command) throws IOException {
        ProcessRun.Result r = ProcessRun.run(command, Duration.ofSeconds(30));
        if (r.exit() != 0) throw new IOException(String.join(" ", command) + " exited " + r.exit() + ": " + r.err());
    }
}
