package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
  * Checks the lab itself: latency, cuts and cleanup. Each site runs a tiny HTTP listener (a
  * single-file Java program, because the JVM is the one server we know is installed) and curl is
  * the client.
  */
class NetLabTest {
    private static final List<String> SITES = List.of("a", "b", "c");
    private static final int PORT = 7070;

    /** Answers every connection with "200 ok"; runs inside a site namespace. */
    private static final String LISTENER =
            """
            import java.io.*;
            import java.net.*;
            import java.nio.charset.StandardCharsets;

            public class Listener {
                public static void main(String[] args) throws IOException {
                    try (ServerSocket server = new ServerSocket()) {
                        server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])));
                        System.out.println("listening on " + server.getLocalSocketAddress());
                        while (true) {
                            try (Socket c = server.accept()) {
                                c.setSoTimeout(5000);
                                BufferedReader in = new BufferedReader(
                                        new InputStreamReader(c.getInputStream(), StandardCharsets.ISO_8859_1));
                                String line;
                                while ((line = in.readLine()) != null && !line.isEmpty()) {
                                }
                                c.getOutputStream().write(
                                        "HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n"
                                                .getBytes(StandardCharsets.ISO_8859_1));
                            } catch (IOException e) {
                                System.out.println("connection failed: " + e);
                            }
                        }
                    }
                }
            }
            """;

    @TempDir static Path tmp;
    private static NetLab lab;
    private static final List<Process> listeners = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Optional<String> why = NetLab.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "skipping system tests: " + why.orElse(""));
        lab = NetLab.create("tdmt", SITES, Duration.ofMillis(15), Duration.ofMillis(2));
        Path source = tmp.resolve("Listener.java");
        Files.writeString(source, LISTENER, StandardCharsets.UTF_8);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (String site : SITES) {
            listeners.add(
                    lab.start(
                            site,
                            List.of(java, "-Xmx64m", "-XX:+UseSerialGC", source.toString(), lab.address(site), String.valueOf(PORT)),
                            tmp.resolve("listener-" + site + ".log"),
                            Map.of()));
        }
        for (String site : SITES) {
            awaitReachable(site, site, Duration.ofSeconds(90));
        }
    }

    @AfterAll
    static void tearDown() {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void heal() throws IOException {
        lab.heal();
    }

    @Test
    void sitesReachEachOtherWithWanLatency() throws IOException {
        List<Double> rtts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Probe p = probe("b", "a");
            assertThat(p.ok()).as("b reaches a: %s", p).isTrue();
            rtts.add(p.connectSeconds());
        }
        System.out.println("b->a TCP connect times (s): " + rtts);
        // Two one-way trips of 15 ± 2 ms each.
        assertThat(rtts).allSatisfy(rtt -> assertThat(rtt).isGreaterThanOrEqualTo(0.025));
        assertThat(probe("a", "c").ok()).isTrue();
    }

    @Test
    void cutSiteIsolatesItUntilHealed() throws IOException {
        lab.cutSite("a");
        assertThat(probe("b", "a").ok()).as("b reaches a while a is cut").isFalse();
        assertThat(probe("a", "c").ok()).as("a reaches c while a is cut").isFalse();
        assertThat(probe("b", "c").ok()).as("b reaches c").isTrue();

        lab.heal();
        awaitReachable("b", "a", Duration.ofSeconds(20));
    }

    @Test
    void cutLinkDropsOnlyThatPair() throws IOException {
        lab.cutLink("a", "b");
        assertThat(probe("a", "b").ok()).as("a reaches b").isFalse();
        assertThat(probe("b", "a").ok()).as("b reaches a").isFalse();
        assertThat(probe("a", "c").ok()).as("a reaches c").isTrue();
        assertThat(probe("b", "c").ok()).as("b reaches c").isTrue();
        assertThat(probe("c", "a").ok()).as("c reaches a").isTrue();

        lab.heal();
        awaitReachable("a", "b", Duration.ofSeconds(20));
    }

    @Test
    void pausedProcessStopsAnsweringUntilResumed() throws IOException {
        Process listenerC = listeners.get(SITES.indexOf("c"));
        lab.pause(listenerC);
        try {
            // The kernel still completes the handshake; the stopped server never answers.
            assertThat(probe("a", "c").ok()).isFalse();
        } finally {
            lab.resume(listenerC);
        }
        awaitReachable("a", "c", Duration.ofSeconds(20));
    }

    @Test
    void execReportsFailure() {
        assertThatThrownBy(() -> lab.exec("a", Duration.ofSeconds(10), "sh", "-c", "echo oops >&2; exit 3"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exited with 3")
                .hasMessageContaining("oops");
        assertThatThrownBy(() -> lab.exec("a", Duration.ofMillis(300), "sleep", "30"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("timed out");
    }

    @Test
    void closeKillsProcessesAndRemovesNamespaces() throws IOException {
        NetLab other = NetLab.create("tdmu", List.of("x", "y"), Duration.ofMillis(5), Duration.ZERO);
        Process sleeper;
        try {
            sleeper = other.start("x", List.of("sleep", "600"), tmp.resolve("sleeper.log"), Map.of());
            assertThat(other.exec("y", Duration.ofSeconds(10), "ip", "-4", "-o", "addr", "show", "eth0"))
                    .contains(other.address("y"));
        } finally {
            other.close();
        }
        assertThat(sleeper.isAlive()).isFalse();
        assertThat(namespaces()).noneMatch(ns -> ns.startsWith("tdmu-"));
        assertThatCode(other::close).doesNotThrowAnyException();
    }

    private static List<String> namespaces() throws IOException {
        Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return out.lines().map(l -> l.strip().split("\\s+")[0]).filter(s -> !s.isEmpty()).toList();
    }

    /** One HTTP request from one site to another's listener; never throws for network failures. */
    private static Probe probe(String from, String to) throws IOException {
        String url = "http://" + lab.address(to) + ":" + PORT + "/";
        String out =
                lab.exec(
                        from,
                        Duration.ofSeconds(30),
                        "sh",
                        "-c",
                        "curl -s -o /dev/null --connect-timeout 3 --max-time 5"
                                + " -w '%{exitcode} %{http_code} %{time_connect}' "
                                + url
                                + " || true");
        String[] f = out.strip().split(" ");
        return new Probe(Integer.parseInt(f[0]), f[1], Double.parseDouble(f[2]));
    }

    private static void awaitReachable(String from, String to, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Probe last = probe(from, to);
        while (!last.ok() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            last = probe(from, to);
        }
        assertThat(last.ok()).as("%s reaches %s within %s: %s", from, to, timeout, last).isTrue();
    }

    private record Probe(int curlExit, String httpCode, double connectSeconds) {
        boolean ok() {
            return curlExit == 0 && httpCode.equals("200");
        }
    }
}
