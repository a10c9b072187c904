package dev.tandem.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The admin shell of a real three-node cluster (processes on loopback addresses), driven by the real
 * OpenSSH client: exec mode, keys and roles, a commit on one node seen on another, and an interactive
 * session under {@code expect} (completion, configure/commit, commit confirm rolling back by itself,
 * bad input).
 */
@Tag("system")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminShellSystemTest {
    private static final int FIRST_PORT = 27800;
    private static final Duration SETTLE = Duration.ofSeconds(90);

    private static Path work;
    private static Loopback hosts;
    private static TandemSites cluster;
    private static Path adminKey;
    private static Path operatorKey;
    private static Path strangerKey;
    private static Path knownHosts;

    @BeforeAll
    static void startCluster() throws Exception {
        assumeTrue(TestFiles.onPath("ssh") && TestFiles.onPath("ssh-keygen"),
                "skipped: the shell system test needs the OpenSSH client (ssh, ssh-keygen): apt-get install openssh-client");
        work = TandemSites.ROOT.resolve("tests/target/system-admin-shell");
        TestFiles.deleteRecursively(work);
        Files.createDirectories(work);
        adminKey = keygen("admin_key");
        operatorKey = keygen("olga_key");
        strangerKey = keygen("stranger_key");
        String users = "users:\n  - name: olga\n    role: operator\n    keys: [\"" + Files.readString(operatorKey.resolveSibling("olga_key.pub")).trim() + "\"]\n";
        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("a1", "a");
        nodes.put("b1", "b");
        nodes.put("w1", "c");
        hosts = new Loopback(31, List.of("a", "b", "c"));
        cluster = new TandemSites(hosts, work, nodes, FIRST_PORT, users,
                adminKey.resolveSibling("admin_key.pub"));
        cluster.startAll();
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).until(() -> cluster.nodes().stream()
                .allMatch(n -> Files.exists(cluster.hostKey(n)) && cluster.status(n) != null
                        && cluster.status(n).path("applied_version").asLong() == 1
                        && cluster.status(n).get("leader") != null));
        StringBuilder hosts = new StringBuilder();
        for (String n : cluster.nodes()) {
            hosts.append("[").append(cluster.address(n)).append("]:").append(TandemSites.sshPort(FIRST_PORT)).append(' ')
                    .append(Files.readString(cluster.hostKey(n)).trim()).append('\n');
        }
        knownHosts = Files.writeString(work.resolve("known_hosts"), hosts);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) cluster.close();
        if (hosts != null) hosts.close();
    }

    private static Path keygen(String name) throws Exception {
        Path key = work.resolve(name);
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.toString()), "", Duration.ofSeconds(20));
        return key;
    }

    record Result(int exit, String out, String err) {}

    private static List<String> sshCommand(Path key, String user, String node) {
        return new ArrayList<>(List.of("ssh", "-i", key.toString(), "-p", Integer.toString(TandemSites.sshPort(FIRST_PORT)),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "ConnectTimeout=10",
                user + "@" + cluster.address(node)));
    }

    private static Result ssh(Path key, String user, String node, String command) throws Exception {
        List<String> argv = sshCommand(key, user, node);
        argv.add(command);
        return run(argv, "", Duration.ofSeconds(60));
    }

    private static Result run(List<String> command, String stdin, Duration timeout) throws Exception {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        var out = new java.util.concurrent.CompletableFuture<String>();
        var err = new java.util.concurrent.CompletableFuture<String>();
        new Thread(() -> out.complete(read(p.getInputStream()))).start();
        new Thread(() -> err.complete(read(p.getErrorStream()))).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in " + timeout.toSeconds() + "s; output so far: "
                    + out.getNow(""));
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    @Order(1)
    void execModeShowsTheClusterAndExitsZero() throws Exception {
        Result r = ssh(adminKey, "admin", "a1", "show cluster");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("cluster system:", "quorum").containsPattern("a1\\*? +a +services +yes +1")
                .containsPattern("w1\\*? +c +witness +yes +1");
        Result json = ssh(adminKey, "admin", "b1", "show cluster --json");
        assertThat(json.out()).startsWith("{\"cluster\":\"system\",\"node\":\"b1\"");
    }

    @Test
    @Order(2)
    void aWrongKeyAndAnUnknownUserAreRefusedAndAudited() throws Exception {
        Result wrongKey = ssh(strangerKey, "admin", "a1", "show cluster");
        assertThat(wrongKey.exit()).isEqualTo(255);
        assertThat(wrongKey.err()).contains("Permission denied");
        Result unknownUser = ssh(adminKey, "mallory", "a1", "show cluster");
        assertThat(unknownUser.exit()).isEqualTo(255);
        Result audit = ssh(adminKey, "admin", "a1", "show audit");
        assertThat(audit.out()).contains("login.refused").contains("mallory").contains("login ");
    }

    @Test
    @Order(3)
    void anOperatorMayLookButACommitIsRefused() throws Exception {
        assertThat(ssh(operatorKey, "olga", "a1", "show config users").exit()).isZero();
        Result refused = ssh(operatorKey, "olga", "a1", "configure; set sites.a.description x; commit");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).isEqualTo("error: configure needs the admin role; olga is an operator\n");
    }

    @Test
    @Order(4)
    void aCommitOnA1IsVisibleOnB1() throws Exception {
        Result commit = ssh(adminKey, "admin", "a1", "configure; set users.carol.role operator; commit comment \"add carol\"");
        assertThat(commit.exit()).as(commit.err()).isZero();
        assertThat(commit.out()).contains("committed version 2");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(ssh(adminKey, "admin", "b1", "show config users.carol").out()).contains("role: operator"));
        Result history = ssh(adminKey, "admin", "b1", "show config history");
        assertThat(history.out()).containsPattern("2 +\\S+ \\S+ +admin +ssh:127\\.0\\.0\\.1:\\d+@a1 +add carol");
        Result export = ssh(adminKey, "admin", "w1", "show config --yaml");
        assertThat(export.out()).contains("name: carol");
        // a document round-trips through configure load -, as a config kept in git would
        Result load = run(withCommand(sshCommand(adminKey, "admin", "b1"), "configure load - commit comment \"from git\""),
                export.out().replace("name: carol", "name: carla"), Duration.ofSeconds(60));
        assertThat(load.exit()).as(load.err()).isZero();
        assertThat(load.out()).contains("committed version 3");
    }

    private static List<String> withCommand(List<String> argv, String command) {
        argv.add(command);
        return argv;
    }

    @Test
    @Order(5)
    void anInteractiveSessionCompletesCommitsAndRefusesBadInputThenCommitConfirmRollsBack() throws Exception {
        assumeTrue(TestFiles.onPath("expect"), "skipped: the interactive session is driven by expect: apt-get install expect");
        String megabyte = "x".repeat(1 << 20);
        Files.writeString(work.resolve("long-line"), megabyte);
        String script = """
                set timeout 60
                log_user 1
                log_file -noappend %s
                expect_after timeout { puts "\nTIMEOUT: the shell did not answer as expected"; exit 3 }
                spawn %s
                expect -re {admin@a1:a> $}
                send "show ?"
                expect "cluster"
                expect "version"
                send "\\025configure\\r"
                expect -re {admin@a1:a# $}
                send "set users.dave.ro\\t"
                expect "users.dave.role "
                send "operator\\r"
                expect -re {admin@a1:a# $}
                send "commit comment interactive\\r"
                expect -re {committed version [0-9]+ \\(}
                expect -re {admin@a1:a# $}
                send "frobnicate\\r"
                expect "error: unknown command \\"frobnicate\\""
                send "set no.such.path 1\\r"
                expect "error: no: unknown"
                send "set users.dave.role root\\r"
                expect "error: users.dave.role: \\"root\\" is not one of admin, operator"
                set f [open "%s"]
                set long [read $f]
                close $f
                send -- "$long\\r"
                expect "error: line too long"
                expect -re {admin@a1:a# $}
                send "set sites.a.description \\"to be rolled back\\"\\r"
                expect -re {admin@a1:a# $}
                send "commit confirm 1\\r"
                expect "unless you `confirm` within 1 minute"
                expect -re {admin@a1:a# $}
                send "exit\\r"
                expect -re {admin@a1:a> $}
                send "exit\\r"
                expect eof
                """.formatted(work.resolve("session.transcript"),
                String.join(" ", sshCommand(adminKey, "admin", "a1")).replace("ssh ", "ssh -tt "),
                work.resolve("long-line"));
        Path expectFile = Files.writeString(work.resolve("session.exp"), script);
        Result session = run(List.of("expect", expectFile.toString()), "", Duration.ofSeconds(240));
        assertThat(session.exit()).as("expect failed; transcript in " + work.resolve("session.transcript") + "\n"
                        + tail(Files.readString(work.resolve("session.transcript"))))
                .isZero();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(ssh(adminKey, "admin", "b1", "show config users.dave").out()).contains("role: operator");
            assertThat(ssh(adminKey, "admin", "b1", "show config sites").out()).contains("to be rolled back");
        });

        // nobody confirmed: a minute later the node rolls the change back by itself, for the whole cluster
        await().atMost(Duration.ofSeconds(100)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
                assertThat(ssh(adminKey, "admin", "b1", "show config history 1").out()).contains("automatic rollback"));
        assertThat(ssh(adminKey, "admin", "b1", "show config sites").out()).doesNotContain("to be rolled back");
        assertThat(ssh(adminKey, "admin", "b1", "show config users.dave").out()).contains("role: operator");
    }

    private static String tail(String text) {
        String cleaned = text.length() > 1 << 20 ? text.replaceAll("x{200,}", "x…x") : text;
        return cleaned.substring(Math.max(0, cleaned.length() - 4000));
    }
}
