package dev.tandem.shell.ssh;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tandem.config.User;
import dev.tandem.shell.AuditSink;
import dev.tandem.shell.CliSessions;
import dev.tandem.shell.ShellUser;
import dev.tandem.shell.UserDirectory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelShell;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.channel.PtyMode;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/** The SSH server against the real OpenSSH client (and MINA's client where OpenSSH cannot drive a pty). */
class SshShellServerTest {
    private static final Duration SSH_TIMEOUT = Duration.ofSeconds(30);
    private static final ListAppender<ILoggingEvent> LOGS = new ListAppender<>();

    record Audit(String who, String from, String action, String detail) {}

    record Result(int exit, String out, String err) {}

    @TempDir
    Path dir;

    private final Map<String, User> directory = new ConcurrentHashMap<>();
    private final List<Audit> audits = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final FakeCli cli = new FakeCli();
    private final UserDirectory users = name -> Optional.ofNullable(directory.get(name));
    private final AuditSink audit = (who, from, action, detail) -> audits.add(new Audit(who, from, action, detail));
    private Path aliceKey;
    private Path otherKey;
    private Path hostKeyFile;

    @BeforeAll
    static void quietLogs() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
        context.getLogger("org.apache.sshd").setLevel(Level.WARN);
        Logger ours = context.getLogger("dev.tandem.shell.ssh");
        ours.setLevel(Level.DEBUG);
        LOGS.setContext(context);
        LOGS.start();
        ours.addAppender(LOGS);
    }

    @BeforeEach
    void setUp() throws Exception {
        LOGS.list.clear();
        aliceKey = keygen("alice");
        otherKey = keygen("other");
        directory.put("alice", new User("alice", User.Level.ADMIN, List.of(publicKey(aliceKey))));
        hostKeyFile = dir.resolve("state/ssh/host_ed25519");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    // --- exec

    @Test
    void execRunsTheCommandLineAsTheUserAndPropagatesTheExitCode() throws Exception {
        // olga's first key line is garbage: skipped with a warning, her real key still works
        Path olgaKey = keygen("olga");
        directory.put("olga", new User("olga", User.Level.OPERATOR, List.of("not a key", publicKey(olgaKey))));
        SshShellServer server = start();

        Result ok = ssh(server, aliceKey, "alice", List.of(), null, "show cluster");
        assertThat(ok.exit()).isZero();
        assertThat(ok.out()).matches("user=alice role=ADMIN from=127\\.0\\.0\\.1:\\d+ cmd=show cluster\n");

        Result fail = ssh(server, aliceKey, "alice", List.of(), null, "fail");
        assertThat(fail.exit()).isEqualTo(3);
        assertThat(fail.err()).contains("it failed");

        Result olga = ssh(server, olgaKey, "olga", List.of(), null, "whoami");
        assertThat(olga.exit()).isZero();
        assertThat(olga.out()).startsWith("user=olga role=OPERATOR ");

        Result cat = ssh(server, aliceKey, "alice", List.of(), "line one\nline two\n", "cat");
        assertThat(cat.exit()).isZero();
        assertThat(cat.out()).isEqualTo("line one\nline two\n");

        await().atMost(Duration.ofSeconds(5)).until(() -> count("login") == 4);
        assertThat(audits).filteredOn(a -> a.action().equals("login"))
                .allSatisfy(a -> {
                    assertThat(a.detail()).isEqualTo("ssh");
                    assertThat(a.from()).matches("127\\.0\\.0\\.1:\\d+");
                });
        assertThat(count("login.refused")).isZero();
        assertThat(messages(Level.WARN)).anyMatch(m -> m.contains("user olga") && m.contains("'not a key'"));
    }

    // --- refused logins

    @Test
    void aWrongKeyIsRefusedAndAuditedOncePerConnection() throws Exception {
        SshShellServer server = start();
        Path third = keygen("third");

        // two wrong keys offered on one connection
        Result r = ssh(server, otherKey, "alice", List.of("-i", third.toString()), null, "show cluster");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied (publickey)");
        assertThat(cli.execs).isEmpty();

        await().atMost(Duration.ofSeconds(5)).until(() -> count("login.refused") == 1);
        Audit refused = audits.get(0);
        assertThat(refused.who()).isEqualTo("alice");
        assertThat(refused.from()).matches("127\\.0\\.0\\.1:\\d+");
        assertThat(refused.detail()).contains("key not authorized").contains(fingerprint(otherKey)).contains(fingerprint(third));
        Thread.sleep(300);
        assertThat(count("login.refused")).isEqualTo(1);
        assertThat(messages(Level.WARN)).filteredOn(m -> m.startsWith("SSH login refused"))
                .singleElement().asString().contains("alice").contains(fingerprint(otherKey));
    }

    @Test
    void aUserNotInTheDirectoryIsRefused() throws Exception {
        SshShellServer server = start();
        Result r = ssh(server, aliceKey, "mallory", List.of(), null, "show cluster");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err()).contains("Permission denied (publickey)");
        await().atMost(Duration.ofSeconds(5)).until(() -> count("login.refused") == 1);
        assertThat(audits.get(0).who()).isEqualTo("mallory");
        assertThat(audits.get(0).detail()).contains("unknown user");
    }

    @Test
    void aKeyAddedToTheDirectoryWorksAtTheNextLogin() throws Exception {
        SshShellServer server = start();
        assertThat(ssh(server, otherKey, "alice", List.of(), null, "x").exit()).isEqualTo(255);
        directory.put("alice", new User("alice", User.Level.ADMIN, List.of(publicKey(aliceKey), publicKey(otherKey))));
        assertThat(ssh(server, otherKey, "alice", List.of(), null, "x").exit()).isZero();
        directory.remove("alice");
        assertThat(ssh(server, otherKey, "alice", List.of(), null, "x").exit()).isEqualTo(255);
    }

    @Test
    void keysWithAuthorizedKeysOptionsAreNotAccepted() throws Exception {
        directory.put("alice", new User("alice", User.Level.ADMIN, List.of("from=\"10.0.0.0/8\" " + publicKey(aliceKey))));
        SshShellServer server = start();
        assertThat(ssh(server, aliceKey, "alice", List.of(), null, "x").exit()).isEqualTo(255);
        assertThat(messages(Level.WARN)).anyMatch(m -> m.contains("options [from]"));
    }

    @Test
    void onlyPublicKeyAuthenticationIsOffered() throws Exception {
        SshShellServer server = start();
        Result r = ssh(server, aliceKey, "alice",
                List.of("-v", "-o", "PreferredAuthentications=password,keyboard-interactive"), null, "show cluster");
        assertThat(r.exit()).isEqualTo(255);
        assertThat(r.err().lines().map(String::strip).filter(l -> l.contains("Authentications that can continue")))
                .isNotEmpty()
                .allMatch(l -> l.equals("debug1: Authentications that can continue: publickey"));
        assertThat(r.err()).contains("Permission denied (publickey)");
        assertThat(cli.execs).isEmpty();
    }

    @Test
    void repeatedFailuresFromOneAddressStartABackOff() throws Exception {
        SshShellServer server = start();
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
            assertThat(ssh(server, otherKey, "alice", List.of(), null, "x").exit()).isEqualTo(255);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> count("login.refused") == LoginThrottle.MAX_FAILURES);

        // now even the right key is refused, without new audit records or warnings
        for (int i = 0; i < 2; i++) {
            Result r = ssh(server, aliceKey, "alice", List.of(), null, "x");
            assertThat(r.exit()).isEqualTo(255);
            assertThat(r.err()).contains("Permission denied (publickey)");
        }
        Thread.sleep(300);
        assertThat(cli.execs).isEmpty();
        assertThat(count("login.refused")).isEqualTo(LoginThrottle.MAX_FAILURES);
        assertThat(messages(Level.WARN)).filteredOn(m -> m.contains("failed SSH logins from 127.0.0.1"))
                .singleElement().asString().contains("for 10 s");
    }

    // --- algorithms

    @ParameterizedTest
    @ValueSource(strings = {
        "KexAlgorithms=diffie-hellman-group14-sha1",
        "KexAlgorithms=diffie-hellman-group14-sha256",
        "KexAlgorithms=sntrup761x25519-sha512@openssh.com",
        "Ciphers=aes128-cbc",
        "Ciphers=aes128-ctr,MACs=hmac-sha1",
        "HostKeyAlgorithms=ssh-rsa",
        "PubkeyAcceptedAlgorithms=ssh-rsa",
    })
    void weakOrUnwantedAlgorithmsAreRefused(String options) throws Exception {
        SshShellServer server = start();
        Path rsaKey = dir.resolve("rsa");
        run(List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsaKey.toString()), null);
        directory.put("alice", new User("alice", User.Level.ADMIN, List.of(publicKey(aliceKey), publicKey(rsaKey))));
        List<String> args = new ArrayList<>();
        for (String o : options.split(",(?=[A-Z])")) {
            args.add("-o");
            args.add(o);
        }
        Path key = options.startsWith("Pubkey") ? rsaKey : aliceKey;
        Result r = ssh(server, key, "alice", args, null, "show cluster");
        assertThat(r.exit()).as(r.err()).isEqualTo(255);
        assertThat(cli.execs).isEmpty();
    }

    @Test
    void rsaSha2UserKeysWork() throws Exception {
        SshShellServer server = start();
        Path rsaKey = dir.resolve("rsa");
        run(List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsaKey.toString()), null);
        Path ecdsaKey = dir.resolve("ecdsa");
        run(List.of("ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", ecdsaKey.toString()), null);
        directory.put("alice", new User("alice", User.Level.ADMIN, List.of(publicKey(rsaKey), publicKey(ecdsaKey))));
        assertThat(ssh(server, rsaKey, "alice", List.of("-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512"), null, "x").exit()).isZero();
        assertThat(ssh(server, ecdsaKey, "alice", List.of(), null, "x").exit()).isZero();
    }

    @Test
    void strictKeyExchangeAndModernAlgorithmsAreNegotiated() throws Exception {
        SshShellServer server = start();
        Result r = ssh(server, aliceKey, "alice", List.of("-vvv"), null, "show cluster");
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> proposal = r.err().lines().map(String::strip)
                .dropWhile(l -> !l.endsWith("peer server KEXINIT proposal"))
                .takeWhile(l -> !l.contains("first_kex_follows")).toList();
        assertThat(proposal).contains(
                "debug2: KEX algorithms: curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
                        + "ecdh-sha2-nistp384,ecdh-sha2-nistp521,ext-info-s,kex-strict-s-v00@openssh.com",
                "debug2: host key algorithms: ssh-ed25519",
                "debug2: ciphers stoc: chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,"
                        + "aes256-ctr,aes128-ctr",
                "debug2: MACs stoc: hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,"
                        + "hmac-sha2-256",
                "debug2: compression stoc: none");
        assertThat(r.err()).contains("will use strict KEX ordering") // the Terrapin fix, on both sides
                .contains("resetting send seqnr")
                .contains("kex: algorithm: curve25519-sha256")
                .contains("kex: host key algorithm: ssh-ed25519")
                .contains("cipher: chacha20-poly1305@openssh.com");
    }

    @Test
    void sha1RsaSignaturesAreRefusedEvenFromAClientThatIgnoresServerSigAlgs() throws Exception {
        SshShellServer server = start();
        KeyPair rsa = KeyUtils.generateKeyPair("ssh-rsa", 2048);
        directory.put("bob", new User("bob", User.Level.OPERATOR, List.of(PublicKeyEntry.toString(rsa.getPublic()))));
        SshClient client = SshClient.setUpDefaultClient();
        client.setSignatureFactories(List.of(BuiltinSignatures.rsa, BuiltinSignatures.ed25519));
        client.setServerKeyVerifier((session, address, serverKey) -> true);
        client.start();
        closeables.add(client);
        try (ClientSession session = client.connect("bob", "127.0.0.1", server.port()).verify(Duration.ofSeconds(10)).getSession()) {
            session.addPublicKeyIdentity(rsa);
            assertThatThrownBy(() -> session.auth().verify(Duration.ofSeconds(10))).hasMessageContaining("No more authentication methods");
        }
        assertThat(messages(Level.INFO)).noneMatch(m -> m.startsWith("SSH login:"));
    }

    // --- forwarding and subsystems

    @Test
    void forwardingAndSubsystemsAreRefused() throws Exception {
        SshShellServer server = start();
        Result stdio = ssh(server, aliceKey, "alice", List.of("-W", "127.0.0.1:" + server.port()), null);
        assertThat(stdio.exit()).isEqualTo(255);
        assertThat(stdio.err()).containsAnyOf("open failed", "administratively prohibited", "unknown channel type");

        Result remote = ssh(server, aliceKey, "alice",
                List.of("-N", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9"), null);
        assertThat(remote.exit()).isEqualTo(255);
        assertThat(remote.err()).contains("remote port forwarding failed");

        Result sftp = ssh(server, aliceKey, "alice", List.of("-s"), null, "sftp");
        assertThat(sftp.exit()).isNotZero();
        assertThat(cli.execs).isEmpty();
    }

    // --- host key

    @Test
    void theHostKeyIsAnOpenSshEd25519KeyThatSurvivesRestarts() throws Exception {
        SshShellServer first = start();
        String line = first.hostKeyLine();
        assertThat(line).startsWith("ssh-ed25519 AAAA");
        assertThat(Files.readString(hostKeyFile)).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(hostKeyFile))).isEqualTo("rw-------");
        Result derived = run(List.of("ssh-keygen", "-y", "-f", hostKeyFile.toString()), null);
        assertThat(derived.out()).startsWith(line + " ");
        assertThat(ssh(first, aliceKey, "alice", List.of(), null, "x").exit()).isZero();
        first.close();
        first.close(); // idempotent

        SshShellServer second = start();
        assertThat(second.hostKeyLine()).isEqualTo(line);
        // a known_hosts built from the first server's key still matches
        Result r = ssh(second, aliceKey, "alice", List.of(), null, "x", line);
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void anUnreadableHostKeyFileStopsTheStartInsteadOfBeingReplaced() throws Exception {
        Files.createDirectories(hostKeyFile.getParent());
        Files.writeString(hostKeyFile, "garbage\n");
        assertThatThrownBy(this::start).isInstanceOf(IOException.class).hasMessageContaining("not regenerating");
        assertThat(Files.readString(hostKeyFile)).isEqualTo("garbage\n");
    }

    // --- interactive shell

    @Test
    void interactiveShellOverOpenSshPty() throws Exception {
        SshShellServer server = start();
        Interactive alice = interactiveAlice(server);
        Process ssh = alice.ssh();
        StringBuffer out = alice.out();
        try (OutputStream in = ssh.getOutputStream()) {
            in.write("hello\n".getBytes(UTF_8));
            in.flush();
            await().atMost(Duration.ofSeconds(15)).until(() -> out.toString().contains("got: hello"));
            assertThat(ssh.waitFor(SSH_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
        assertThat(ssh.exitValue()).isZero();
        // no local tty: OpenSSH sends size 0x0 and no modes; the defaults apply
        assertThat(out.toString()).contains("type=xterm-256color size=80x24").contains("got: hello size=80x24\r\n");
        assertThat(cli.interactiveEnded.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void ctrlCInterruptsTheLineReader() throws Exception {
        SshShellServer server = start();
        Interactive alice = interactiveAlice(server);
        Process ssh = alice.ssh();
        StringBuffer out = alice.out();
        try (OutputStream in = ssh.getOutputStream()) {
            in.write("abc\u0003".getBytes(UTF_8));
            in.flush();
            assertThat(ssh.waitFor(SSH_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
        assertThat(out.toString()).contains("interrupted");
        assertThat(ssh.exitValue()).isEqualTo(130);
    }

    @Test
    void shellWithoutPtyReadsPipedInput() throws Exception {
        SshShellServer server = start();
        Result r = ssh(server, aliceKey, "alice", List.of("-T"), "hello\n");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("type=dumb").contains("got: hello");
    }

    @Test
    void ptyModesAndWindowChangesReachTheTerminal() throws Exception {
        SshShellServer server = start();
        KeyPair key = KeyUtils.generateKeyPair("ssh-ed25519", 256);
        directory.put("bob", new User("bob", User.Level.OPERATOR, List.of(PublicKeyEntry.toString(key.getPublic()))));

        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier((session, address, serverKey) ->
                PublicKeyEntry.toString(serverKey).equals(server.hostKeyLine()));
        client.start();
        closeables.add(client);
        try (ClientSession session = client.connect("bob", "127.0.0.1", server.port()).verify(Duration.ofSeconds(10)).getSession()) {
            session.addPublicKeyIdentity(key);
            session.auth().verify(Duration.ofSeconds(10));
            ChannelShell shell = session.createShellChannel();
            shell.setPtyType("screen-256color");
            shell.setPtyColumns(100);
            shell.setPtyLines(40);
            shell.setPtyModes(Map.of(PtyMode.VERASE, 8, PtyMode.VINTR, 3, PtyMode.ECHO, 1, PtyMode.ICRNL, 1,
                    PtyMode.OPOST, 1, PtyMode.ONLCR, 1, PtyMode.ISIG, 1, PtyMode.ICANON, 1));
            PipedOutputStream keyboard = new PipedOutputStream();
            shell.setIn(new PipedInputStream(keyboard));
            ByteArrayOutputStream screen = new ByteArrayOutputStream();
            shell.setOut(screen);
            shell.setErr(screen);
            shell.open().verify(Duration.ofSeconds(10));

            await().atMost(Duration.ofSeconds(10)).until(() -> screen.toString(UTF_8).contains("waiting for WINCH"));
            assertThat(screen.toString(UTF_8)).contains("hello bob role=OPERATOR type=screen-256color size=100x40 erase=8");
            shell.sendWindowChange(120, 50);
            await().atMost(Duration.ofSeconds(10)).until(() -> cli.winches.contains("120x50"));
            // backspace (the client's ERASE, ^H) edits the line; CR ends it
            keyboard.write("hex\blo\r".getBytes(UTF_8));
            keyboard.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> screen.toString(UTF_8).contains("got: helo size=120x50"));
            shell.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), Duration.ofSeconds(10));
            assertThat(shell.getExitStatus()).isZero();
        }
    }

    @Test
    void aClientThatDisappearsEndsTheCliSessionWithoutLeakingThreads() throws Exception {
        SshShellServer server = start();
        interactiveAlice(server).ssh().destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        assertThat(cli.interactiveEnded.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(cli.endings).containsExactly("eof");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(threadNames())
                .noneMatch(n -> n.startsWith("ssh-shell"))
                .noneMatch(n -> n.contains("input pump thread")));
    }

    @Test
    void closingTheServerEndsOpenSessions() throws Exception {
        SshShellServer server = start();
        Process ssh = interactiveAlice(server).ssh();
        server.close();
        assertThat(cli.interactiveEnded.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ssh.waitFor(SSH_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(threadNames()).noneMatch(n -> n.startsWith("ssh-shell"));
    }

    // --- helpers

    /** OpenSSH with a pty, logged in as alice and greeted; destroyed at the end of the test whatever happens. */
    private record Interactive(Process ssh, StringBuffer out) {}

    private Interactive interactiveAlice(SshShellServer server) throws Exception {
        Process ssh = sshProcess(server, aliceKey, "alice", List.of("-tt"), null);
        closeables.add(ssh::destroyForcibly);
        StringBuffer out = pump(ssh.getInputStream());
        pump(ssh.getErrorStream());
        await().atMost(Duration.ofSeconds(15)).until(() -> out.toString().contains("hello alice"));
        return new Interactive(ssh, out);
    }

    private SshShellServer start() throws IOException {
        SshShellServer server = SshShellServer.start("127.0.0.1", 0, hostKeyFile, users, cli, audit);
        closeables.add(server);
        return server;
    }

    private Path keygen(String name) throws Exception {
        Path key = dir.resolve("id_" + name);
        Result r = run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name + "@test", "-f", key.toString()), null);
        assertThat(r.exit()).as(r.err()).isZero();
        return key;
    }

    private static String publicKey(Path key) throws IOException {
        return Files.readString(Path.of(key + ".pub")).strip();
    }

    private static String fingerprint(Path key) throws Exception {
        Result r = run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", key + ".pub"), null);
        return r.out().split(" ")[1];
    }

    private long count(String action) {
        return audits.stream().filter(a -> a.action().equals(action)).count();
    }

    private static List<String> messages(Level level) {
        return new ArrayList<>(LOGS.list).stream().filter(e -> e.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName).toList();
    }

    private Result ssh(SshShellServer server, Path key, String user, List<String> options, String stdin, String... command)
            throws Exception {
        return ssh(server, key, user, options, stdin, command.length == 0 ? null : command[0], server.hostKeyLine());
    }

    private Result ssh(SshShellServer server, Path key, String user, List<String> options, String stdin, String command,
            String knownHostKey) throws Exception {
        return run(sshCommand(server.port(), key, user, options, command, knownHostKey), stdin);
    }

    private Process sshProcess(SshShellServer server, Path key, String user, List<String> options, String command)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(sshCommand(server.port(), key, user, options, command, server.hostKeyLine()));
        pb.environment().put("TERM", "xterm-256color");
        return pb.start();
    }

    private List<String> sshCommand(int port, Path key, String user, List<String> options, String command, String hostKey)
            throws IOException {
        Path knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "[127.0.0.1]:" + port + " " + hostKey + "\n");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/ssh", "-F", "/dev/null"));
        cmd.addAll(options); // first: for ssh the first value of an option wins
        cmd.addAll(List.of(
                "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "UpdateHostKeys=no",
                "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none",
                "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10",
                "-i", key.toString(),
                "-p", String.valueOf(port),
                "-l", user,
                "127.0.0.1"));
        if (command != null) {
            cmd.add(command);
        }
        return cmd;
    }

    private static Result run(List<String> command, String stdin) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("TERM", "xterm-256color");
        Process p = pb.start();
        StringBuffer out = pump(p.getInputStream());
        StringBuffer err = pump(p.getErrorStream());
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(UTF_8));
            }
        } catch (IOException e) {
            // the process did not read its input
        }
        if (!p.waitFor(SSH_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not finish in " + SSH_TIMEOUT + "; stderr: " + err);
        }
        Thread.sleep(50); // let the pumps drain
        return new Result(p.exitValue(), out.toString(), err.toString());
    }

    private static StringBuffer pump(InputStream stream) {
        StringBuffer buffer = new StringBuffer();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try (stream) {
                int n;
                while ((n = stream.read(buf)) > 0) {
                    buffer.append(new String(buf, 0, n, UTF_8));
                }
            } catch (IOException ignored) {
                // process gone
            }
        }, "test-pump");
        t.setDaemon(true);
        t.start();
        return buffer;
    }

    /** Echoes what it was asked; interactive: a banner, one line read with JLine, "got: <line>". */
    static final class FakeCli implements CliSessions {
        final List<String> execs = new CopyOnWriteArrayList<>();
        final List<String> winches = new CopyOnWriteArrayList<>();
        final List<String> endings = new CopyOnWriteArrayList<>();
        final CountDownLatch interactiveEnded = new CountDownLatch(1);

        @Override
        public int interactive(ShellUser user, Terminal terminal) {
            try {
                PrintWriter w = terminal.writer();
                Size size = terminal.getSize();
                w.println("hello " + user.name() + " role=" + user.role() + " type=" + terminal.getType() + " size="
                        + size.getColumns() + "x" + size.getRows() + " erase="
                        + terminal.getAttributes().getControlChar(Attributes.ControlChar.VERASE));
                w.flush();
                if (user.name().equals("bob")) {
                    // before the line reader, which has its own WINCH handler
                    CountDownLatch winched = new CountDownLatch(1);
                    terminal.handle(Terminal.Signal.WINCH, s -> {
                        Size z = terminal.getSize();
                        winches.add(z.getColumns() + "x" + z.getRows());
                        winched.countDown();
                    });
                    w.println("waiting for WINCH");
                    w.flush();
                    if (!winched.await(10, TimeUnit.SECONDS)) {
                        return 99;
                    }
                    terminal.handle(Terminal.Signal.WINCH, Terminal.SignalHandler.SIG_DFL);
                }
                LineReader reader = LineReaderBuilder.builder().terminal(terminal).build();
                try {
                    String line = reader.readLine("> ");
                    Size now = terminal.getSize();
                    w.println("got: " + line + " size=" + now.getColumns() + "x" + now.getRows());
                    w.flush();
                    endings.add("line");
                    return 0;
                } catch (UserInterruptException e) {
                    w.println("interrupted");
                    w.flush();
                    endings.add("int");
                    return 130;
                } catch (EndOfFileException e) {
                    endings.add("eof");
                    return 0;
                }
            } catch (RuntimeException | InterruptedException e) {
                endings.add("error " + e);
                return 1;
            } finally {
                interactiveEnded.countDown();
            }
        }

        @Override
        public int exec(ShellUser user, String commandLine, InputStream in, PrintStream out, PrintStream err) {
            execs.add(commandLine);
            switch (commandLine) {
                case "fail" -> {
                    err.println("it failed");
                    return 3;
                }
                case "cat" -> {
                    try {
                        in.transferTo(out);
                    } catch (IOException e) {
                        return 1;
                    }
                    return 0;
                }
                default -> {
                    out.println("user=" + user.name() + " role=" + user.role() + " from=" + user.from() + " cmd=" + commandLine);
                    return 0;
                }
            }
        }
    }
}
