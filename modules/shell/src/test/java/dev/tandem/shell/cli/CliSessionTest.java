package dev.tandem.shell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ConfigCodec;
import dev.tandem.config.User;
import dev.tandem.shell.ShellUser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliSessionTest {
    private static final String DOC = """
            schema_version: 1
            cluster: {name: demo}
            sites: [{name: site-a}, {name: site-b}]
            nodes:
              - {name: a1, site: site-a, control_address: 127.0.1.1, roles: [services]}
              - {name: b1, site: site-b, control_address: 127.0.2.1, roles: [services]}
            users:
              - {name: admin, role: admin, keys: []}
            """;
    private static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEdyx5QG4dPjQF8tv9ye2f9wO6wmvn/6H1mYnqbNVv4Q bob@laptop";
    private static final ShellUser ADMIN = new ShellUser("admin", User.Level.ADMIN, "10.0.0.1:5000");
    private static final ShellUser OPERATOR = new ShellUser("olga", User.Level.OPERATOR, "10.0.0.2:5000");

    @TempDir
    Path dir;

    private FakeCluster cluster;
    private ShellService shell;

    record Run(int exit, String out, String err) {}

    @BeforeEach
    void setUp() throws Exception {
        cluster = new FakeCluster(ConfigCodec.readYaml(DOC));
        shell = new ShellService(cluster, cluster, (who, from, action, detail) -> cluster.audit(
                new dev.tandem.store.AuditEntry(Instant.now(), who, from, action, detail)), List.of(), dir);
    }

    private Run exec(ShellUser user, String line) {
        return exec(user, line, "");
    }

    private Run exec(ShellUser user, String line, String stdin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = shell.exec(user, line, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void addingAUserInConfigureModeCommitsOneVersion() {
        Run r = exec(ADMIN, "configure; set users.bob.role operator; set users.bob.keys \"" + KEY + "\"; compare; commit comment add bob");
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("+ set users.bob\n", "+ set users.bob.role operator", "+ set users.bob.keys \"" + KEY + "\"", "committed version 2 (3 changes)");
        assertThat(cluster.running().config().users()).extracting(User::name).containsExactly("admin", "bob");
        assertThat(cluster.running().author()).isEqualTo("admin");
        assertThat(cluster.running().origin()).isEqualTo("ssh:10.0.0.1:5000@a1");
        assertThat(cluster.running().comment()).isEqualTo("add bob");
    }

    @Test
    void showCommandsPrintTextOrJson() {
        assertThat(exec(ADMIN, "show cluster").out()).contains("cluster demo: leader a1, quorum").contains("a1*");
        assertThat(exec(ADMIN, "show cluster --json").out()).contains("\"leader\":\"a1\"");
        assertThat(exec(ADMIN, "show config sites").out()).contains("- name: site-a");
        assertThat(exec(ADMIN, "show config nodes.b1 --set").out()).contains("set nodes.b1.control_address 127.0.2.1");
        exec(ADMIN, "configure; set sites.site-b.description \"second DC\"; commit");
        assertThat(exec(ADMIN, "show config diff 1 2").out()).isEqualTo("+ set sites.site-b.description \"second DC\"\n");
        assertThat(exec(ADMIN, "show config history").out()).contains("VERSION", "cluster created");
        assertThat(exec(ADMIN, "show version").out()).contains("running config version 2");
    }

    @Test
    void anInvalidCandidateIsNotCommittedAndSaysWhere() {
        Run r = exec(ADMIN, "configure; set nodes.b1.site site-x; commit");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("the candidate is not valid, nothing was committed", "nodes.b1.site: unknown site \"site-x\"");
        assertThat(cluster.running().version()).isEqualTo(1);
    }

    @Test
    void badPathsAndValuesGetOneLineErrors() {
        assertThat(exec(ADMIN, "configure; set users.bob.rol operator").err())
                .isEqualTo("error: users.bob.rol: unknown; users.bob has: name, role, keys\n");
        assertThat(exec(ADMIN, "configure; set users.bob.role root").err())
                .isEqualTo("error: users.bob.role: \"root\" is not one of admin, operator\n");
        assertThat(exec(ADMIN, "configure; set cluster.control_port many").err())
                .isEqualTo("error: cluster.control_port: \"many\" is not a whole number\n");
        assertThat(exec(ADMIN, "configure; delete sites.site-z").err())
                .isEqualTo("error: sites.site-z: no such entry (there are: site-a, site-b)\n");
        assertThat(exec(ADMIN, "frobnicate now").err()).startsWith("error: unknown command \"frobnicate now\"");
        assertThat(exec(ADMIN, "show config \"unclosed").err()).isEqualTo("error: unclosed \" quote\n");
        assertThat(exec(ADMIN, "x".repeat(1 << 20)).err()).isEqualTo("error: line too long (1048576 characters; at most 65536)\n");
        assertThat(exec(ADMIN, "configure; set users.bob.name robert").err()).contains("a name is part of the path");
        assertThat(exec(ADMIN, "--json").err()).isEqualTo("error: --json goes with a show command, e.g. show cluster --json\n");
        assertThat(cluster.running().version()).isEqualTo(1);
    }

    @Test
    void anOperatorMayLookButNotChange() {
        assertThat(exec(OPERATOR, "show cluster").exit()).isZero();
        Run r = exec(OPERATOR, "configure");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("error: configure needs the admin role; olga is an operator\n");
        assertThat(exec(OPERATOR, "rollback 1").err()).contains("rollback needs the admin role");
    }

    @Test
    void aCommitOnAStaleCopyIsRefusedAndUpdateRebasesIt() {
        CliSession mine = new CliSession(shell, ADMIN);
        java.io.StringWriter text = new java.io.StringWriter();
        java.io.PrintWriter out = new java.io.PrintWriter(text, true);
        run(mine, "configure", out);
        run(mine, "set sites.site-a.description first", out);
        exec(ADMIN, "configure; set users.carol.role operator; commit comment carol");
        assertThat(runError(mine, "commit", out)).contains("not committed: running changed since your copy (version 1 → 2 by admin): + set users.carol; + set users.carol.role operator");
        run(mine, "update", out);
        run(mine, "commit", out);
        assertThat(text.toString()).contains("rebased 1 edit(s) from version 1 onto version 2", "committed version 3 (1 change)");
        assertThat(cluster.running().config().users()).extracting(User::name).contains("carol");
        assertThat(cluster.running().config().site("site-a").orElseThrow().description()).isEqualTo("first");
    }

    @Test
    void configureLoadReplacesTheCandidateFromStandardInput() {
        String changed = DOC.replace("{name: site-b}", "{name: site-b, description: loaded}");
        Run r = exec(ADMIN, "configure load - commit comment \"from git\"", changed);
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("committed version 2 (1 change)");
        assertThat(cluster.running().comment()).isEqualTo("from git");
        Run bad = exec(ADMIN, "configure load - commit", "schema_version: 1\nsites: 7\n");
        assertThat(bad.err()).contains("the document was not loaded: sites: wrong type: expected a list");
        assertThat(cluster.running().version()).isEqualTo(2);
    }

    @Test
    void rollbackCommitsAnOldDocumentAsANewVersion() {
        exec(ADMIN, "configure; set sites.site-a.description one; commit");
        Run r = exec(ADMIN, "rollback 1");
        assertThat(r.out()).contains("committed version 3: the document of version 1");
        assertThat(cluster.running().config().site("site-a").orElseThrow().description()).isNull();
        assertThat(cluster.running().comment()).isEqualTo("rollback to version 1");
    }

    @Test
    void commitConfirmIsConfirmedOrRolledBackByItself() throws Exception {
        Run confirmed = exec(ADMIN, "configure; set sites.site-a.description kept; commit confirm 1; confirm");
        assertThat(confirmed.out()).contains("committed version 2; it rolls back to version 1", "version 2 confirmed; it stays");
        assertThat(cluster.running().version()).isEqualTo(2);

        CliSession session = new CliSession(shell, ADMIN);
        java.io.PrintWriter out = new java.io.PrintWriter(new java.io.StringWriter(), true);
        run(session, "configure", out);
        run(session, "set sites.site-b.description lost", out);
        run(session, "commit", out); // version 3
        // a pending confirm whose time is up rolls back to the version before it, and only if nothing else was committed
        shell.scheduleRollback(cluster.running(), cluster.version(2).orElseThrow(), java.time.Duration.ofMillis(100), ADMIN);
        org.awaitility.Awaitility.await().until(() -> cluster.running().version() == 4);
        assertThat(cluster.running().author()).isEqualTo("tandem");
        assertThat(cluster.running().comment()).startsWith("automatic rollback: version 3");
        assertThat(cluster.running().config().site("site-b").orElseThrow().description()).isNull();
    }

    @Test
    void exitWithUncommittedChangesNeedsDiscard() {
        CliSession session = new CliSession(shell, ADMIN);
        java.io.PrintWriter out = new java.io.PrintWriter(new java.io.StringWriter(), true);
        run(session, "configure", out);
        run(session, "set sites.site-a.description x", out);
        assertThat(runError(session, "exit", out)).contains("uncommitted changes");
        run(session, "exit discard", out);
        assertThat(session.configuring()).isFalse();
    }

    @Test
    void completionOffersCommandsPathsNamesAndChoices() {
        CliSession session = new CliSession(shell, ADMIN);
        CliCompleter completer = new CliCompleter(session);
        assertThat(words(completer.options(List.of(), "sh"))).containsExactly("show");
        assertThat(words(completer.options(List.of("show"), ""))).contains("cluster", "config", "audit", "version");
        assertThat(words(completer.options(List.of("show", "config"), "us"))).containsExactly("users.");
        run(session, "configure", new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(words(completer.options(List.of("set"), "users."))).contains("users.admin.");
        assertThat(words(completer.options(List.of("set"), "users.admin."))).contains("users.admin.role", "users.admin.keys");
        assertThat(words(completer.options(List.of("set", "users.admin.role"), ""))).containsExactly("admin", "operator");
        assertThat(words(completer.options(List.of("set"), "cluster.failure_detection.t"))).containsExactly("cluster.failure_detection.timeout");
    }

    private static List<String> words(List<CliCompleter.Option> options) {
        return options.stream().map(CliCompleter.Option::word).toList();
    }

    private static void run(CliSession session, String line, java.io.PrintWriter out) {
        try {
            for (List<String> c : Tokenizer.commands(line)) session.execute(c, null, out);
        } catch (CliException e) {
            throw new AssertionError(line + ": " + e.getMessage());
        }
    }

    private static String runError(CliSession session, String line, java.io.PrintWriter out) {
        try {
            for (List<String> c : Tokenizer.commands(line)) session.execute(c, null, out);
        } catch (CliException e) {
            return e.getMessage();
        }
        throw new AssertionError(line + " did not fail");
    }
}
