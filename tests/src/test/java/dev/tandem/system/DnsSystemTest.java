package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
 * The DNS server of a real three-node cluster (processes on loopback addresses), asked by the real
 * ISC tools: dig for every kind of answer (authoritative data, NXDOMAIN/NODATA, referral, wildcard,
 * CNAME chain, REFUSED, case, truncation, BADVERS), BIND 9 {@code named} as a real secondary
 * (AXFR, then NOTIFY and IXFR after a change), nsupdate with and without TSIG (the change seen on
 * another node and surviving its restart), and a failover pool following its members' health.
 *
 * <p>BIND only listens on addresses configured on an interface, so it listens on 127.0.0.1 (its own
 * port) but pulls from {@value #BIND_SOURCE}, the only address the zone allows to transfer unsigned.
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DnsSystemTest {
    private static final int FIRST_PORT = 28800;
    /** Not 5353 (mDNS: avahi may hold 0.0.0.0:5353 on a desktop) and not 53. */
    private static final int DNS_PORT = 28853;
    private static final String BIND_LISTEN = "127.0.0.1";
    private static final int BIND_PORT = 28854;
    private static final String BIND_SOURCE = "127.0.43.53";
    private static final String BACKEND_A = "127.0.41.10";
    private static final String BACKEND_B = "127.0.42.10";
    private static final int BACKEND_PORT = 8000;
    private static final int BIG_TXT = 40;
    private static final Duration SETTLE = Duration.ofSeconds(90);
    private static final Pattern SOA_DATA = Pattern.compile("ns-a\\.sys\\.test\\. hostmaster\\.sys\\.test\\. (\\d+) 3600 600 1209600 300");

    private static Path work;
    private static Loopback hosts;
    private static TandemSites cluster;
    private static String transferSecret;
    private static String updateSecret;
    private static final Map<String, Process> backends = new LinkedHashMap<>();
    private static Process named;
    private static int nsupdates;

    /** On a failure, what the nodes and named said last. */
    @RegisterExtension
    static final TestWatcher LOGS = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster == null) return;
            StringBuilder out = new StringBuilder("\n=== " + context.getDisplayName() + " failed; node logs:" + cluster.logTails());
            Path namedLog = work.resolve("bind/named.log");
            if (Files.exists(namedLog)) out.append("\n--- named (").append(namedLog).append(") ---\n").append(TestFiles.tail(namedLog, 30));
            System.err.println(out);
        }
    };

    @BeforeAll
    static void startCluster() throws Exception {
        List<String> missing = List.of("dig", "nsupdate", "named").stream().filter(t -> which(t) == null).toList();
        assumeTrue(missing.isEmpty(), "skipped: the DNS system test needs dig, nsupdate (apt-get install bind9-dnsutils) and named "
                + "(apt-get install bind9); missing: " + missing);
        work = TandemSites.ROOT.resolve("tests/target/system-dns");
        TestFiles.deleteRecursively(work);
        Files.createDirectories(work);
        transferSecret = secret();
        updateSecret = secret();
        hosts = new Loopback(41, List.of("a", "b", "c"));
        startBackend("a");
        startBackend("b");
        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("a1", "a");
        nodes.put("b1", "b");
        nodes.put("w1", "c");
        cluster = new TandemSites(hosts, work, nodes, FIRST_PORT, dnsYaml(), null);
        cluster.startAll();
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> cluster.nodes().stream()
                .allMatch(n -> {
                    var status = cluster.status(n);
                    return status != null && status.path("applied_version").asLong() == 1 && status.get("leader") != null;
                }));
        // every node serves the zone
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            for (String n : cluster.nodes()) assertThat(soaSerial(n)).isEqualTo(1);
        });
    }

    @AfterAll
    static void stopEverything() {
        if (named != null) stopGently(named);
        backends.values().forEach(p -> {
            if (hosts != null) hosts.kill(p);
        });
        if (cluster != null) cluster.close();
        if (hosts != null) hosts.close();
    }

    private static String dnsYaml() {
        String bigTxt = IntStream.rangeClosed(1, BIG_TXT).mapToObj(i -> "\"record %02d of the big name, padded to be long\"".formatted(i))
                .collect(Collectors.joining(", "));
        return """
                dns:
                  port: %1$d
                  tsig_keys:
                    - {name: transfer-key, algorithm: hmac-sha256, secret: "%2$s"}
                    - {name: update-key, algorithm: hmac-sha256, secret: "%3$s"}
                  pools:
                    - name: web
                      ttl: 5s
                      members:
                        - {name: site-a, address: %4$s, site: a, priority: 1}
                        - {name: site-b, address: %5$s, site: b, priority: 2}
                      check: {type: http, port: %6$d, path: /, interval: 1s, timeout: 500ms, fall: 2, rise: 2}
                  zones:
                    - name: sys.test
                      ttl: 5m
                      transfer: {allow: [%7$s], keys: [transfer-key]}
                      update_keys: [update-key]
                      also_notify: ["%8$s:%9$d"]
                      records:
                        - {name: "@", ns: [ns-a, ns-b, ns-c], mx: ["10 mail"], txt: ["v=spf1 mx -all"], caa: ["0 issue \\"letsencrypt.org\\""]}
                        - {name: ns-a, a: [127.0.41.1]}
                        - {name: ns-b, a: [127.0.42.1]}
                        - {name: ns-c, a: [127.0.43.1]}
                        - {name: www, a: [192.0.2.10], aaaa: ["2001:db8::10"]}
                        - {name: mail, a: [192.0.2.25]}
                        - {name: _sip._udp, srv: ["0 5 5060 sip"]}
                        - {name: sip, a: [192.0.2.50]}
                        - {name: "*.wild", a: [192.0.2.99]}
                        - {name: sub, ns: [ns.sub]}
                        - {name: ns.sub, a: [192.0.2.53]}
                        - {name: alias1, cname: alias2}
                        - {name: alias2, cname: www}
                        - {name: big, txt: [%10$s]}
                        - {name: web, pool: web}
                """.formatted(DNS_PORT, transferSecret, updateSecret, BACKEND_A, BACKEND_B, BACKEND_PORT, BIND_SOURCE,
                BIND_LISTEN, BIND_PORT, bigTxt);
    }

    // --- 1. dig -------------------------------------------------------------------------------

    @Test
    @Order(1)
    void digGetsAuthoritativeAnswersOfEveryKind() throws Exception {
        // data of every type, authoritative
        assertAuthoritative("www.sys.test", "A", "192.0.2.10");
        assertAuthoritative("www.sys.test", "AAAA", "2001:db8::10");
        assertAuthoritative("sys.test", "TXT", "\"v=spf1 mx -all\"");
        assertAuthoritative("sys.test", "CAA", "0 issue \"letsencrypt.org\"");
        Dig ns = assertAuthoritative("sys.test", "NS", "ns-a.sys.test.", "ns-b.sys.test.", "ns-c.sys.test.");
        assertThat(ns.additional()).as(ns.text()).contains(new Rr("ns-a.sys.test.", "A", "127.0.41.1"),
                new Rr("ns-b.sys.test.", "A", "127.0.42.1"), new Rr("ns-c.sys.test.", "A", "127.0.43.1"));
        Dig mx = assertAuthoritative("sys.test", "MX", "10 mail.sys.test.");
        assertThat(mx.additional()).as(mx.text()).contains(new Rr("mail.sys.test.", "A", "192.0.2.25"));
        Dig srv = assertAuthoritative("_sip._udp.sys.test", "SRV", "0 5 5060 sip.sys.test.");
        assertThat(srv.additional()).as(srv.text()).contains(new Rr("sip.sys.test.", "A", "192.0.2.50"));
        Dig soa = dig("a1", "sys.test", "SOA");
        assertThat(soa.status()).as(soa.text()).isEqualTo("NOERROR");
        assertThat(soa.flags()).as(soa.text()).contains("qr", "aa").doesNotContain("tc", "rd", "ra");
        assertThat(soa.answer()).as(soa.text()).singleElement().satisfies(r -> assertThat(r.data()).matches(SOA_DATA));

        // a name that does not exist: NXDOMAIN, with the SOA for negative caching
        Dig nx = dig("a1", "nope.sys.test", "A");
        assertThat(nx.status()).as(nx.text()).isEqualTo("NXDOMAIN");
        assertThat(nx.flags()).as(nx.text()).contains("aa");
        assertThat(nx.answer()).as(nx.text()).isEmpty();
        assertNegativeSoa(nx);

        // a name without that type (NODATA), and names with nothing but descendants (empty non-terminals)
        for (String[] q : new String[][] {{"mail.sys.test", "AAAA"}, {"_udp.sys.test", "A"}, {"wild.sys.test", "A"}}) {
            Dig nodata = dig("a1", q[0], q[1]);
            assertThat(nodata.status()).as(nodata.text()).isEqualTo("NOERROR");
            assertThat(nodata.flags()).as(nodata.text()).contains("aa");
            assertThat(nodata.answer()).as(nodata.text()).isEmpty();
            assertNegativeSoa(nodata);
        }

        // below the zone cut: a referral, not authoritative, NS in authority and the glue in additional
        for (String below : List.of("x.sub.sys.test", "deep.x.sub.sys.test")) {
            Dig referral = dig("a1", below, "A");
            assertThat(referral.status()).as(referral.text()).isEqualTo("NOERROR");
            assertThat(referral.flags()).as(referral.text()).contains("qr").doesNotContain("aa");
            assertThat(referral.answer()).as(referral.text()).isEmpty();
            assertThat(referral.authority()).as(referral.text()).containsExactly(new Rr("sub.sys.test.", "NS", "ns.sub.sys.test."));
            assertThat(referral.additional()).as(referral.text()).contains(new Rr("ns.sub.sys.test.", "A", "192.0.2.53"));
        }

        // the wildcard answers for any name below it, under the name asked; a type it lacks is NODATA
        for (String name : List.of("foo.wild.sys.test", "a.b.wild.sys.test")) {
            Dig wild = dig("a1", name, "A");
            assertThat(wild.status()).as(wild.text()).isEqualTo("NOERROR");
            assertThat(wild.flags()).as(wild.text()).contains("aa");
            assertThat(wild.answer()).as(wild.text()).containsExactly(new Rr(name + ".", "A", "192.0.2.99"));
        }
        Dig wildNodata = dig("a1", "foo.wild.sys.test", "TXT");
        assertThat(wildNodata.status()).as(wildNodata.text()).isEqualTo("NOERROR");
        assertThat(wildNodata.answer()).as(wildNodata.text()).isEmpty();
        assertNegativeSoa(wildNodata);

        // a CNAME chain is followed inside the zone, in order
        Dig chain = dig("a1", "alias1.sys.test", "A");
        assertThat(chain.status()).as(chain.text()).isEqualTo("NOERROR");
        assertThat(chain.flags()).as(chain.text()).contains("aa");
        assertThat(chain.answer()).as(chain.text()).containsExactly(
                new Rr("alias1.sys.test.", "CNAME", "alias2.sys.test."),
                new Rr("alias2.sys.test.", "CNAME", "www.sys.test."),
                new Rr("www.sys.test.", "A", "192.0.2.10"));

        // not our zone: REFUSED, nothing else
        Dig refused = dig("a1", "example.com", "A");
        assertThat(refused.status()).as(refused.text()).isEqualTo("REFUSED");
        assertThat(refused.flags()).as(refused.text()).doesNotContain("aa");
        assertThat(refused.answer()).as(refused.text()).isEmpty();

        // the question's case is kept, in the question and the answer
        Dig mixed = dig("a1", "WwW.SyS.TeSt", "A");
        assertThat(mixed.question()).as(mixed.text()).isEqualTo("WwW.SyS.TeSt.");
        assertThat(mixed.answer()).as(mixed.text()).containsExactly(new Rr("WwW.SyS.TeSt.", "A", "192.0.2.10"));

        // too big for the client's UDP buffer: TC; then all of it over TCP
        Dig truncated = dig("a1", "big.sys.test", "TXT", "+bufsize=512", "+ignore");
        assertThat(truncated.status()).as(truncated.text()).isEqualTo("NOERROR");
        assertThat(truncated.flags()).as(truncated.text()).contains("qr", "aa", "tc");
        assertThat(truncated.transport()).as(truncated.text()).isEqualTo("UDP");
        Dig whole = dig("a1", "big.sys.test", "TXT", "+tcp");
        assertThat(whole.status()).as(whole.text()).isEqualTo("NOERROR");
        assertThat(whole.flags()).as(whole.text()).contains("aa").doesNotContain("tc");
        assertThat(whole.transport()).as(whole.text()).isEqualTo("TCP");
        assertThat(whole.answer()).as(whole.text()).hasSize(BIG_TXT)
                .allMatch(r -> r.owner().equals("big.sys.test.") && r.type().equals("TXT"));

        // an EDNS version we do not speak: BADVERS, with our OPT saying version 0
        Dig badvers = dig("a1", "sys.test", "SOA", "+edns=1", "+noednsnegotiation");
        assertThat(badvers.status()).as(badvers.text()).isEqualTo("BADVERS");
        assertThat(badvers.answer()).as(badvers.text()).isEmpty();
        assertThat(badvers.text()).contains("; EDNS: version: 0");

        // every node gives the same answers
        for (String node : List.of("b1", "w1")) {
            assertThat(dig(node, "www.sys.test", "A").answer()).containsExactly(new Rr("www.sys.test.", "A", "192.0.2.10"));
            assertThat(dig(node, "nope.sys.test", "A").status()).isEqualTo("NXDOMAIN");
        }

        // dig sends an EDNS cookie by default; a question without one (or without EDNS, as many stub resolvers ask) may be
        // answered from the server's answer cache: asked twice each way, it gets the same reply as the full path
        String[][] questions = {{"www.sys.test", "A"}, {"sys.test", "NS"}, {"nope.sys.test", "A"}, {"mail.sys.test", "AAAA"},
                {"x.sub.sys.test", "A"}, {"foo.wild.sys.test", "A"}, {"alias1.sys.test", "A"}, {"example.com", "A"},
                {"big.sys.test", "TXT"}};
        for (String[] q : questions) {
            Dig reference = dig("a1", q[0], q[1], "+ignore");
            for (String[] plain : new String[][] {{"+nocookie"}, {"+noedns"}}) {
                for (int i = 0; i < 2; i++) {
                    Dig again = dig("a1", q[0], q[1], plain[0], "+ignore");
                    assertThat(again.sameReplyAs(reference, plain[0].equals("+noedns")))
                            .as("%s %s asked with %s (time %d) differs from the full path:%n%s%nfull path:%n%s", q[0], q[1], plain[0],
                                    i + 1, again.text(), reference.text())
                            .isTrue();
                }
            }
        }
        Dig noEdnsBig = dig("a1", "big.sys.test", "TXT", "+noedns", "+ignore");
        assertThat(noEdnsBig.flags()).as(noEdnsBig.text()).contains("tc");
        // the cache keeps each asker's spelling of the name
        dig("a1", "www.sys.test", "A", "+nocookie");
        Dig cachedMixed = dig("a1", "wWw.sYs.tEsT", "A", "+nocookie");
        assertThat(cachedMixed.question()).as(cachedMixed.text()).isEqualTo("wWw.sYs.tEsT.");
        assertThat(cachedMixed.answer()).as(cachedMixed.text()).containsExactly(new Rr("wWw.sYs.tEsT.", "A", "192.0.2.10"));
    }

    private static Dig assertAuthoritative(String name, String type, String... data) throws Exception {
        Dig d = dig("a1", name, type);
        assertThat(d.status()).as(d.text()).isEqualTo("NOERROR");
        assertThat(d.flags()).as(d.text()).contains("qr", "aa").doesNotContain("tc");
        assertThat(d.answer()).as(d.text()).allMatch(r -> r.owner().equals(name + ".") && r.type().equals(type));
        assertThat(d.answer().stream().map(Rr::data)).as(d.text()).containsExactlyInAnyOrder(data);
        return d;
    }

    private static void assertNegativeSoa(Dig d) {
        assertThat(d.authority()).as(d.text()).singleElement().satisfies(r -> {
            assertThat(r.owner()).isEqualTo("sys.test.");
            assertThat(r.type()).isEqualTo("SOA");
            assertThat(r.data()).matches(SOA_DATA);
        });
    }

    // --- 2. BIND as a secondary ---------------------------------------------------------------

    @Test
    @Order(2)
    void bindAsASecondaryTransfersTheZoneAndFollowsAChangeByNotifyAndIxfr() throws Exception {
        // the transfer access list and keys, seen by dig first
        assertThat(axfr(List.of())).as("unsigned AXFR from 127.0.0.1 (not on the list)").isEqualTo(-1);
        int zoneSize = axfr(List.of("-b", BIND_SOURCE));
        assertThat(zoneSize).as("unsigned AXFR from " + BIND_SOURCE).isGreaterThan(50);
        assertThat(axfr(List.of("-y", "hmac-sha256:transfer-key:" + transferSecret))).as("AXFR signed with transfer-key").isGreaterThan(50);
        assertThat(axfr(List.of("-y", "hmac-sha256:update-key:" + updateSecret))).as("AXFR signed with update-key (not a transfer key)").isEqualTo(-1);

        Path dir = Files.createDirectories(work.resolve("bind"));
        Path conf = dir.resolve("named.conf");
        String primaries = cluster.nodes().stream()
                .map(n -> cluster.address(n) + " port " + DNS_PORT + " key \"transfer-key\";")
                .collect(Collectors.joining(" "));
        Files.writeString(conf, """
                options {
                  directory "%1$s";
                  pid-file "%1$s/named.pid";
                  session-keyfile "%1$s/session.key";
                  managed-keys-directory "%1$s";
                  listen-on port %2$d { %3$s; };
                  listen-on-v6 { none; };
                  transfer-source %4$s;
                  notify-source %4$s;
                  recursion no;
                  notify no;
                  dnssec-validation no;
                };
                controls { };
                key "transfer-key" { algorithm hmac-sha256; secret "%5$s"; };
                zone "sys.test" {
                  type secondary;
                  primaries { %6$s };
                  file "sys.test.db";
                };
                """.formatted(dir, BIND_PORT, BIND_LISTEN, BIND_SOURCE, transferSecret, primaries));
        Path log = dir.resolve("named.log");
        named = hosts.start("c", List.of(which("named"), "-g", "-4", "-n", "1", "-c", conf.toString()), log, Map.of());

        long serial = soaSerial("a1");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertThat(named.isAlive()).as("named exited; its log:\n" + TestFiles.tail(log, 30)).isTrue();
            assertThat(bindSerial()).as("BIND's serial of sys.test").isEqualTo(serial);
        });
        Dig www = digAt(BIND_LISTEN, BIND_PORT, "www.sys.test", "A");
        assertThat(www.flags()).as(www.text()).contains("aa");
        assertThat(www.answer()).as(www.text()).containsExactly(new Rr("www.sys.test.", "A", "192.0.2.10"));
        // a transfer carries the pool's preferred tier
        assertThat(digAt(BIND_LISTEN, BIND_PORT, "web.sys.test", "A").answer()).extracting(Rr::data).containsExactly(BACKEND_A);

        ProcessRun.Result update = nsupdate(true, "update add via-bind.sys.test 300 A 192.0.2.220",
                "update add via-bind.sys.test 300 TXT \"pushed by notify\"");
        assertThat(update.exit()).as(update.out() + update.err()).isZero();
        long next = soaSerial("a1");
        assertThat(next).isGreaterThan(serial);
        // BIND hears of it by NOTIFY (its refresh timer is an hour away) and pulls the change
        long changed = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            Dig seen = digAt(BIND_LISTEN, BIND_PORT, "via-bind.sys.test", "A");
            assertThat(seen.answer()).as(seen.text()).containsExactly(new Rr("via-bind.sys.test.", "A", "192.0.2.220"));
        });
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - changed);
        assertThat(bindSerial()).isEqualTo(next);
        assertThat(digAt(BIND_LISTEN, BIND_PORT, "via-bind.sys.test", "TXT").answer()).extracting(Rr::data)
                .containsExactly("\"pushed by notify\"");
        Files.writeString(work.resolve("failover.txt"), "dns: BIND secondary served an update " + millis
                + " ms after nsupdate returned (NOTIFY + IXFR)\n");

        // and that it was incremental. BIND 9.18 does not name the transfer type at its default log level, but
        // its "Transfer completed" line for the new serial counts a few records, not the whole zone; failing
        // that (another BIND's wording), the primary that served it must have logged an IXFR
        Matcher completed = Pattern.compile("Transfer completed: \\d+ messages, (\\d+) records, .*\\(serial " + next + "\\)")
                .matcher(Files.readString(log));
        boolean incremental = completed.find() ? Integer.parseInt(completed.group(1)) < zoneSize
                : cluster.nodes().stream().anyMatch(n -> TestFiles.read(cluster.log(n)).contains("IXFR of sys.test from serial " + serial + " to " + next));
        assertThat(incremental).as("the transfer of serial " + next + " does not look incremental (the zone has " + zoneSize
                + " records in an AXFR); named log:\n" + TestFiles.tail(log, 30)).isTrue();
    }

    /** The number of records an AXFR of sys.test from a1 gave, or -1 if it failed. */
    private static int axfr(List<String> options) throws IOException {
        List<String> command = new ArrayList<>(List.of("dig", "@" + cluster.address("a1"), "-p", Integer.toString(DNS_PORT),
                "+time=3", "+tries=1", "sys.test", "AXFR"));
        command.addAll(options);
        ProcessRun.Result r = ProcessRun.run(command, Duration.ofSeconds(20));
        if (r.out().contains("; Transfer failed.")) return -1;
        Matcher m = Pattern.compile(";; XFR size: (\\d+) records").matcher(r.out());
        if (!m.find()) throw new AssertionError("dig AXFR gave neither a size nor a failure:\n" + r.out() + r.err());
        return Integer.parseInt(m.group(1));
    }

    private static long bindSerial() throws IOException {
        return serialOf(digAt(BIND_LISTEN, BIND_PORT, "sys.test", "SOA"));
    }

    // --- 3. nsupdate --------------------------------------------------------------------------

    @Test
    @Order(3)
    void aSignedUpdateOnA1IsServedEverywhereAndSurvivesARestartWhileBadOnesChangeNothing() throws Exception {
        long before = soaSerial("a1");
        for (String plain : List.of("+nocookie", "+noedns")) {
            // ask first, so that a cached NXDOMAIN would have to be dropped when the zone changes
            assertThat(dig("b1", "added.sys.test", "A", plain).status()).isEqualTo("NXDOMAIN");
            assertThat(dig("b1", "added.sys.test", "A", plain).status()).isEqualTo("NXDOMAIN");
        }
        ProcessRun.Result added = nsupdate(true, "update add added.sys.test 300 A 192.0.2.230");
        assertThat(added.exit()).as(added.out() + added.err()).isZero();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            for (String plain : List.of("+cookie", "+nocookie", "+noedns")) {
                Dig seen = dig("b1", "added.sys.test", "A", plain);
                assertThat(seen.flags()).as(seen.text()).contains("aa");
                assertThat(seen.answer()).as(seen.text()).containsExactly(new Rr("added.sys.test.", "A", "192.0.2.230"));
            }
        });
        long serial = soaSerial("a1");
        assertThat(serial).isGreaterThan(before);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(soaSerial("b1")).isEqualTo(serial));

        // unsigned: REFUSED, and nothing changes
        ProcessRun.Result unsigned = nsupdate(false, "update add unsigned.sys.test 300 A 192.0.2.231");
        assertThat(unsigned.exit()).isNotZero();
        assertThat(unsigned.err()).contains("REFUSED");
        // a prerequisite that fails: the name www exists, so "nxdomain www" is YXDOMAIN, and nothing changes
        ProcessRun.Result prereq = nsupdate(true, "prereq nxdomain www.sys.test", "update add www.sys.test 300 A 192.0.2.232");
        assertThat(prereq.exit()).isNotZero();
        assertThat(prereq.err()).contains("YXDOMAIN");
        for (String node : cluster.nodes()) {
            assertThat(dig(node, "unsigned.sys.test", "A").status()).isEqualTo("NXDOMAIN");
            assertThat(dig(node, "www.sys.test", "A").answer()).extracting(Rr::data).containsExactly("192.0.2.10");
            assertThat(soaSerial(node)).isEqualTo(serial);
        }

        // b1 crashes and comes back: it still serves the update, at the same serial as a1
        cluster.kill("b1");
        cluster.start("b1");
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
            Dig seen = dig("b1", "added.sys.test", "A");
            assertThat(seen.answer()).as(seen.text()).containsExactly(new Rr("added.sys.test.", "A", "192.0.2.230"));
            assertThat(soaSerial("b1")).isEqualTo(soaSerial("a1")).isEqualTo(serial);
        });
        assertThat(dig("b1", "unsigned.sys.test", "A").status()).isEqualTo("NXDOMAIN");
    }

    // --- 4. failover pool ---------------------------------------------------------------------

    @Test
    @Order(4)
    void thePoolAnswersWithSiteBWhileSiteAsBackendIsDownAndWithSiteAAgainWhenItIsBack() throws Exception {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertPool(BACKEND_A));
        Dig web = dig("a1", "web.sys.test", "A");
        assertThat(web.answer()).as(web.text()).singleElement().satisfies(r -> assertThat(r.ttl()).isEqualTo(5));

        hosts.kill(backends.remove("a"));
        long killed = System.nanoTime();
        // fall 2 x interval 1s, plus the vote's trip through the cluster: generous slack
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertPool(BACKEND_B));
        long downMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);

        startBackend("a");
        long started = System.nanoTime();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> assertPool(BACKEND_A));
        long upMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        Files.writeString(work.resolve("failover.txt"), "dns: pool web answered site-b " + downMillis + " ms after site-a's backend died, "
                + "site-a again " + upMillis + " ms after it was back (check interval 1s, fall 2, rise 2)\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /** Every node answers with just this address, by the full path and (no cookie, no EDNS) from its answer cache. */
    private static void assertPool(String address) throws IOException {
        for (String node : cluster.nodes()) {
            for (String plain : List.of("+cookie", "+nocookie", "+noedns")) {
                Dig d = dig(node, "web.sys.test", "A", plain);
                assertThat(d.answer()).as(node + ":\n" + d.text()).extracting(Rr::data).containsExactly(address);
            }
        }
    }

    // --- helpers ------------------------------------------------------------------------------

    record Rr(String owner, long ttl, String type, String data) {
        /** For comparisons that do not care about the TTL. */
        Rr(String owner, String type, String data) {
            this(owner, -1, type, data);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Rr r && r.owner.equals(owner) && r.type.equals(type) && r.data.equals(data)
                    && (r.ttl < 0 || ttl < 0 || r.ttl == ttl);
        }

        @Override
        public int hashCode() {
            return (owner + " " + type + " " + data).hashCode();
        }

        @Override
        public String toString() {
            return owner + " " + (ttl < 0 ? "" : ttl + " ") + type + " " + data;
        }
    }

    /** One dig exchange, parsed: the header, the question name and the sections. */
    record Dig(String status, Set<String> flags, String question, List<Rr> answer, List<Rr> authority, List<Rr> additional,
            String transport, String text) {
        /** The same reply, up to the order of records in a set and, if asked without EDNS, the OPT record. */
        boolean sameReplyAs(Dig other, boolean withoutEdns) {
            return status.equals(other.status) && flags.equals(other.flags) && Objects.equals(question, other.question)
                    && same(answer, other.answer) && same(authority, other.authority) && same(additional, other.additional)
                    && (withoutEdns || text.contains("; EDNS: version: 0") == other.text.contains("; EDNS: version: 0"));
        }

        private static boolean same(List<Rr> a, List<Rr> b) {
            return a.size() == b.size() && Set.copyOf(a).equals(Set.copyOf(b));
        }
    }

    private static final Pattern STATUS = Pattern.compile("^;; ->>HEADER<<- opcode: \\w+, status: (\\w+), id: \\d+$", Pattern.MULTILINE);
    private static final Pattern FLAGS = Pattern.compile("^;; flags:([a-z ]*);", Pattern.MULTILINE);
    private static final Pattern SERVER = Pattern.compile("^;; SERVER: \\S+ \\((UDP|TCP)\\)$", Pattern.MULTILINE);

    private static Dig dig(String node, String name, String type, String... options) throws IOException {
        return digAt(cluster.address(node), DNS_PORT, name, type, options);
    }

    private static Dig digAt(String server, int port, String name, String type, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of("dig", "@" + server, "-p", Integer.toString(port), "+norec",
                "+time=2", "+tries=2", "+nocmd", "+noall", "+comments", "+question", "+answer", "+authority", "+additional",
                "+stats"));
        command.addAll(List.of(options));
        command.addAll(List.of(name, type));
        ProcessRun.Result r = ProcessRun.run(command, Duration.ofSeconds(20));
        String text = "$ " + String.join(" ", command) + "\n" + r.out() + r.err();
        if (r.exit() != 0) throw new AssertionError("dig exited " + r.exit() + ":\n" + text);
        Matcher status = STATUS.matcher(r.out());
        Matcher flags = FLAGS.matcher(r.out());
        if (!status.find() || !flags.find()) throw new AssertionError("no reply header in dig's output:\n" + text);
        Matcher via = SERVER.matcher(r.out());
        Map<String, List<Rr>> sections = new LinkedHashMap<>();
        String question = null;
        String section = null;
        for (String line : r.out().split("\n")) {
            if (line.isBlank()) {
                section = null;
            } else if (line.startsWith(";; ") && line.endsWith(" SECTION:")) {
                section = line.substring(3, line.length() - " SECTION:".length());
                sections.put(section, new ArrayList<>());
            } else if ("QUESTION".equals(section) && line.startsWith(";")) {
                question = line.substring(1).split("\\s+")[0];
            } else if (section != null && !line.startsWith(";")) {
                String[] f = line.split("\\s+", 5);
                if (f[2].equals("IN") || f[2].equals("ANY")) sections.get(section).add(new Rr(f[0], Long.parseLong(f[1]), f[3], f.length > 4 ? f[4] : ""));
            }
        }
        return new Dig(status.group(1), new LinkedHashSet<>(List.of(flags.group(1).trim().split(" "))), question,
                sections.getOrDefault("ANSWER", List.of()), sections.getOrDefault("AUTHORITY", List.of()),
                sections.getOrDefault("ADDITIONAL", List.of()).stream().filter(rr -> !rr.type().equals("TSIG")).toList(),
                via.find() ? via.group(1) : "?", text);
    }

    private static long soaSerial(String node) throws IOException {
        return serialOf(dig(node, "sys.test", "SOA"));
    }

    private static long serialOf(Dig soa) {
        if (!soa.status().equals("NOERROR") || soa.answer().size() != 1) throw new AssertionError("no SOA:\n" + soa.text());
        Matcher m = SOA_DATA.matcher(soa.answer().get(0).data());
        if (!m.matches()) throw new AssertionError("unexpected SOA:\n" + soa.text());
        return Long.parseLong(m.group(1));
    }

    /** nsupdate against a1, signed with update-key or not, the lines given then {@code send}. */
    private static ProcessRun.Result nsupdate(boolean signed, String... lines) throws IOException {
        StringBuilder script = new StringBuilder("server " + cluster.address("a1") + " " + DNS_PORT + "\nzone sys.test\n");
        for (String line : lines) script.append(line).append('\n');
        script.append("send\n");
        Path file = Files.writeString(work.resolve("nsupdate-" + (++nsupdates) + ".txt"), script);
        List<String> command = new ArrayList<>(List.of("nsupdate", "-t", "20"));
        if (signed) command.addAll(List.of("-y", "hmac-sha256:update-key:" + updateSecret));
        command.add(file.toString());
        return ProcessRun.run(command, Duration.ofSeconds(40));
    }

    private static void startBackend(String site) throws IOException {
        String address = site.equals("a") ? BACKEND_A : BACKEND_B;
        Path log = work.resolve("backend-" + site + ".log");
        Process p = hosts.start(site, TandemSites.applianceCommand("backend", "--listen", address + ":" + BACKEND_PORT,
                "--text", "backend at site " + site), log, Map.of());
        backends.put(site, p);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!p.isAlive()) throw new AssertionError("the backend at " + address + " exited:\n" + TestFiles.read(log));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(address, BACKEND_PORT), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** SIGTERM, so named shuts down cleanly; SIGKILL if it does not within 10 s. */
    private static void stopGently(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) hosts.kill(p);
        } catch (InterruptedException e) {
            hosts.kill(p);
            Thread.currentThread().interrupt();
        }
    }

    private static String secret() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** The tool's path: on PATH, or in /usr/sbin (named), which a non-root PATH may lack; null if neither. */
    private static String which(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(":")));
        dirs.add("/usr/sbin");
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return Path.of(dir, tool).toString();
        }
        return null;
    }
}
