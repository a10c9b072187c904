package dev.tandem.shell.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.cluster.CommitException;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigDiff;
import dev.tandem.config.ConfigTree;
import dev.tandem.config.InvalidConfigException;
import dev.tandem.shell.ShellUser;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * One user's conversation with the shell: operational mode, and configure mode with a private
 * candidate copy of the running document. Every command either completes or changes nothing.
 */
final class CliSession {
    enum Next {
        STAY,
        LEAVE
    }

    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());
    private static final int MAX_CONFIRM_MINUTES = 60;

    private final ShellService service;
    private final ShellUser user;
    private Candidate candidate;

    /** The private copy being edited, the version it was taken from, and the edits (replayed by {@code update}). */
    private static final class Candidate {
        ConfigTree tree;
        long base;
        final List<List<String>> edits = new ArrayList<>();

        Candidate(ConfigVersion running) {
            tree = ConfigTree.of(running.config());
            base = running.version();
        }
    }

    CliSession(ShellService service, ShellUser user) {
        this.service = service;
        this.user = user;
    }

    ShellUser user() {
        return user;
    }

    boolean configuring() {
        return candidate != null;
    }

    /** The tree completion looks at: the candidate while configuring, else the running document. */
    ConfigTree tree() {
        return candidate != null ? candidate.tree : ConfigTree.of(service.cluster.running().config());
    }

    java.nio.file.Path historyDir() {
        return service.historyDir;
    }

    List<ShellCommand> extensions() {
        return service.extensions;
    }

    String prompt() {
        String site = service.cluster.running().config().node(service.cluster.nodeName()).map(n -> n.site()).orElse("?");
        return user.name() + "@" + service.cluster.nodeName() + ":" + site + (candidate != null ? "# " : "> ");
    }

    Next execute(List<String> words, InputStream in, PrintWriter out) throws CliException {
        if (words.isEmpty()) return Next.STAY;
        Flags flags = Flags.of(words);
        List<String> args = flags.words();
        if (args.isEmpty()) throw new CliException(String.join(" ", words) + " goes with a show command, e.g. show cluster --json");
        return candidate != null ? configure(args, flags, in, out) : operational(args, flags, in, out);
    }

    // --- operational mode ----------------------------------------------------------------------

    private Next operational(List<String> w, Flags flags, InputStream in, PrintWriter out) throws CliException {
        switch (w.get(0)) {
            case "show" -> show(w, flags, out);
            case "configure" -> {
                requireAdmin("configure");
                candidate = new Candidate(newest(out));
                if (w.size() > 1) return configureOneShot(w.subList(1, w.size()), in, out);
                out.println("editing a private copy of version " + candidate.base + "; commit applies it to the cluster");
            }
            case "rollback" -> rollback(w, out);
            case "help", "?" -> help(out);
            case "exit", "quit", "logout" -> {
                return Next.LEAVE;
            }
            default -> extension(w, flags, out);
        }
        return Next.STAY;
    }

    private void show(List<String> w, Flags flags, PrintWriter out) throws CliException {
        String what = w.size() > 1 ? w.get(1) : "";
        switch (what) {
            case "cluster" -> Views.cluster(service.cluster, flags.json(), out);
            case "version" -> Views.version(service.cluster, flags.json(), out);
            case "audit" -> Views.audit(service.store.auditLog((int) Math.min(1000, number(w, 2, 50, "show audit [COUNT]"))), flags.json(), out);
            case "config" -> showConfig(w.subList(2, w.size()), flags, out);
            default -> extension(w, flags, out);
        }
    }

    private void showConfig(List<String> w, Flags flags, PrintWriter out) throws CliException {
        if (!w.isEmpty() && w.get(0).equals("history")) {
            Views.history(service.store.history((int) Math.min(1000, number(w, 1, 20, "show config history [COUNT]"))), flags.json(), out);
        } else if (!w.isEmpty() && w.get(0).equals("diff")) {
            if (w.size() != 3) throw new CliException("usage: show config diff V1 V2");
            long from = number(w, 1, 0, "show config diff V1 V2");
            long to = number(w, 2, 0, "show config diff V1 V2");
            printDiff(storedVersion(from).config(), storedVersion(to).config(), "versions " + from + " and " + to + " are the same", out);
        } else {
            if (w.size() > 1) throw new CliException("usage: show config [PATH] [--yaml|--json|--set]");
            printTree(ConfigTree.of(service.cluster.running().config()), w.isEmpty() ? "" : w.get(0), flags, out);
        }
    }

    private void extension(List<String> w, Flags flags, PrintWriter out) throws CliException {
        ShellCommand best = null;
        for (ShellCommand c : service.extensions) {
            List<String> words = c.words();
            if (w.size() >= words.size() && w.subList(0, words.size()).equals(words)
                    && (best == null || words.size() > best.words().size())) {
                best = c;
            }
        }
        if (best == null) throw new CliException(unknown(w));
        if (best.changesState()) requireAdmin(String.join(" ", best.words()));
        try {
            best.run(new ShellCommand.Caller(user.name(), origin()), w.subList(best.words().size(), w.size()), flags.json(), out);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        } catch (Exception e) {
            throw new CliException(String.join(" ", best.words()) + " failed: " + e.getMessage());
        }
    }

    private String unknown(List<String> w) {
        String known = candidate != null
                ? "set, delete, show, compare, commit, confirm, rollback, discard, update, run, exit"
                : "show, configure, rollback, help, exit";
        return "unknown command \"" + String.join(" ", w.subList(0, Math.min(w.size(), 3))) + "\" (commands here: " + known
                + "; ? lists them with help)";
    }

    // --- configure mode ------------------------------------------------------------------------

    private Next configure(List<String> w, Flags flags, InputStream in, PrintWriter out) throws CliException {
        switch (w.get(0)) {
            case "set", "delete" -> edit(w, out);
            case "show" -> {
                if (w.size() > 2) throw new CliException("usage: show [PATH] [--yaml|--json|--set] (the candidate; `run show …` for the rest)");
                printTree(candidate.tree, w.size() > 1 ? w.get(1) : "", flags, out);
            }
            case "compare" -> compare(out);
            case "commit" -> commit(w, out);
            case "confirm" -> {
                long version = service.confirm(user);
                if (version < 0) throw new CliException("nothing to confirm: no commit confirm is pending on this node");
                out.println("version " + version + " confirmed; it stays");
            }
            case "rollback" -> rollback(w, out);
            case "discard" -> {
                candidate = new Candidate(newest(out));
                out.println("candidate discarded; editing a fresh copy of version " + candidate.base);
            }
            case "update" -> update(out);
            case "load" -> load(w, in, out);
            case "run" -> {
                if (w.size() < 2) throw new CliException("usage: run COMMAND (an operational command, e.g. run show cluster)");
                Candidate keep = candidate;
                candidate = null;
                try {
                    operational(w.subList(1, w.size()), flags, in, out);
                } finally {
                    candidate = keep;
                }
            }
            case "exit", "quit" -> {
                boolean discard = w.size() > 1 && w.get(1).equals("discard");
                if (changed() && !discard) {
                    throw new CliException("the candidate has uncommitted changes: commit them, or `exit discard` to drop them");
                }
                candidate = null;
            }
            case "help", "?" -> help(out);
            default -> throw new CliException(unknown(w));
        }
        return Next.STAY;
    }

    /** {@code configure load - [commit [comment TEXT]]} and {@code configure set …} in one line. */
    private Next configureOneShot(List<String> w, InputStream in, PrintWriter out) throws CliException {
        try {
            if (!w.get(0).equals("load")) throw new CliException("after configure, only `load -` may follow on the same line (or use ;)");
            int commitAt = w.indexOf("commit");
            load(commitAt < 0 ? w : w.subList(0, commitAt), in, out);
            if (commitAt >= 0) commit(w.subList(commitAt, w.size()), out);
            else out.println("loaded into the candidate; not committed");
            return Next.STAY;
        } finally {
            if (!changed()) candidate = null;
        }
    }

    private void edit(List<String> w, PrintWriter out) throws CliException {
        String verb = w.get(0);
        if (w.size() < 2) {
            throw new CliException("usage: " + verb + " PATH " + (verb.equals("set") ? "VALUE" : "[VALUE]") + " (e.g. " + verb
                    + " users.alice.role operator)");
        }
        try {
            apply(candidate.tree, w);
        } catch (InvalidConfigException e) {
            throw new CliException(e.getMessage());
        }
        candidate.edits.add(List.copyOf(w));
    }

    private static void apply(ConfigTree tree, List<String> w) throws InvalidConfigException {
        String path = w.get(1);
        String value = w.size() > 2 ? String.join(" ", w.subList(2, w.size())) : null;
        if (w.get(0).equals("set")) {
            if (value == null) tree.create(path);
            else tree.set(path, value);
        } else {
            tree.delete(path, value);
        }
    }

    private boolean changed() {
        return candidate != null && !ConfigDiff.diff(service.cluster.running().config(), candidate.tree.toUncheckedConfig()).isEmpty();
    }

    private void compare(PrintWriter out) throws CliException {
        ConfigVersion running = service.cluster.running();
        if (running.version() != candidate.base) {
            out.println("note: running moved on from version " + candidate.base + " to " + running.version()
                    + " since you started; `update` rebases your edits onto it");
        }
        printDiff(running.config(), candidate.tree.toUncheckedConfig(), "no changes", out);
    }

    private void commit(List<String> w, PrintWriter out) throws CliException {
        requireAdmin("commit");
        int minutes = 0;
        int i = 1;
        if (w.size() > 1 && w.get(1).equals("confirm")) {
            minutes = (int) number(w, 2, -1, "commit confirm MINUTES [comment TEXT]");
            if (minutes < 1 || minutes > MAX_CONFIRM_MINUTES) throw new CliException("commit confirm takes 1 to " + MAX_CONFIRM_MINUTES + " minutes");
            i = 3;
        }
        String comment = null;
        if (w.size() > i) {
            if (!w.get(i).equals("comment") || w.size() == i + 1) throw new CliException("usage: commit [confirm MINUTES] [comment TEXT]");
            comment = String.join(" ", w.subList(i + 1, w.size()));
        }
        ClusterConfig next;
        try {
            next = candidate.tree.toConfig();
        } catch (InvalidConfigException e) {
            throw new CliException("the candidate is not valid, nothing was committed:\n  " + e.getMessage().replace("\n", "\n  "));
        }
        ConfigVersion previous = service.cluster.running();
        if (ConfigDiff.diff(previous.config(), next).isEmpty() && previous.version() == candidate.base) {
            out.println("no changes to commit");
            return;
        }
        ConfigVersion committed = commitDocument(next, candidate.base, comment);
        int changes = ConfigDiff.diff(previous.config(), committed.config()).size();
        candidate = new Candidate(committed);
        if (minutes == 0) {
            out.println("committed version " + committed.version() + " (" + changes + (changes == 1 ? " change)" : " changes)"));
            return;
        }
        Instant deadline = service.scheduleRollback(committed, previous, Duration.ofMinutes(minutes), user);
        out.println("committed version " + committed.version() + "; it rolls back to version " + previous.version() + " at "
                + TIME.format(deadline) + " unless you `confirm` within " + minutes + (minutes == 1 ? " minute" : " minutes"));
    }

    private String origin() {
        return "ssh:" + user.from() + "@" + service.cluster.nodeName();
    }

    private ConfigVersion commitDocument(ClusterConfig document, long expected, String comment) throws CliException {
        try {
            return service.cluster.commit(new CommitRequest(document, expected, user.name(), origin(), comment, Instant.now()));
        } catch (CommitException e) {
            if (e.reason() == CommitException.Reason.CONFLICT) {
                ConfigVersion running = service.cluster.running();
                List<String> theirs = ConfigDiff.diff(storedVersion(expected).config(), running.config());
                throw new CliException("not committed: running changed since your copy (version " + expected + " → "
                        + running.version() + " by " + running.author() + "): "
                        + String.join("; ", theirs.subList(0, Math.min(5, theirs.size())))
                        + (theirs.size() > 5 ? "; …" : "") + ". `update` rebases your edits onto it");
            }
            throw new CliException("not committed: " + e.getMessage());
        }
    }

    private void rollback(List<String> w, PrintWriter out) throws CliException {
        requireAdmin("rollback");
        long target = number(w, 1, -1, "rollback VERSION");
        if (target < 1) throw new CliException("usage: rollback VERSION (see show config history)");
        ConfigVersion old = storedVersion(target);
        ConfigVersion running = newest(out);
        ConfigVersion committed = commitDocument(old.config(), running.version(), "rollback to version " + target);
        if (candidate != null) candidate = new Candidate(committed);
        out.println("committed version " + committed.version() + ": the document of version " + target);
    }

    private void update(PrintWriter out) throws CliException {
        Candidate rebased = new Candidate(newest(out));
        List<String> failed = new ArrayList<>();
        for (List<String> edit : candidate.edits) {
            try {
                apply(rebased.tree, edit);
                rebased.edits.add(edit);
            } catch (InvalidConfigException e) {
                failed.add(String.join(" ", edit) + ": " + e.getMessage());
            }
        }
        long from = candidate.base;
        candidate = rebased;
        out.println("rebased " + rebased.edits.size() + " edit(s) from version " + from + " onto version " + rebased.base);
        for (String f : failed) out.println("  dropped: " + f);
    }

    private void load(List<String> w, InputStream in, PrintWriter out) throws CliException {
        if (w.size() != 2 || !w.get(1).equals("-")) throw new CliException("usage: load - (reads a whole document, YAML, from standard input)");
        if (in == null) throw new CliException("load - reads standard input; use it non-interactively: ssh NODE 'configure load - commit' < cluster.yaml");
        String text;
        try {
            byte[] data = in.readNBytes(Tokenizer.MAX_LINE * 16 + 1);
            if (data.length > Tokenizer.MAX_LINE * 16) throw new CliException("the document is larger than 1 MiB");
            text = new String(data, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("could not read standard input: " + e.getMessage());
        }
        try {
            ClusterConfig loaded = ConfigCodec.readYaml(text);
            candidate.tree = ConfigTree.of(loaded);
            candidate.edits.clear();
        } catch (InvalidConfigException e) {
            throw new CliException("the document was not loaded: " + e.getMessage().replace("\n", "; "));
        }
    }

    // --- shared --------------------------------------------------------------------------------

    private void printTree(ConfigTree tree, String path, Flags flags, PrintWriter out) throws CliException {
        JsonNode node;
        try {
            node = tree.get(path);
        } catch (InvalidConfigException e) {
            throw new CliException(e.getMessage());
        }
        if (node == null) throw new CliException(path + ": not set");
        if (flags.json()) {
            out.println(ConfigCodec.toJson(node));
        } else if (flags.set()) {
            String prefix = "set " + path;
            ConfigDiff.setLines(tree.toUncheckedConfig()).stream()
                    .filter(line -> path.isEmpty() || line.equals(prefix) || line.startsWith(prefix + " ") || line.startsWith(prefix + "."))
                    .forEach(out::println);
        } else {
            out.print(ConfigCodec.toYaml(node));
        }
    }

    private static void printDiff(ClusterConfig before, ClusterConfig after, String none, PrintWriter out) {
        List<String> diff = ConfigDiff.diff(before, after);
        if (diff.isEmpty()) out.println(none);
        diff.forEach(out::println);
    }

    /**
     * The newest committed version, applied here: a copy edited on this node must not be older than a
     * commit just made on another one. Without a majority, this node's version, said so.
     */
    private ConfigVersion newest(PrintWriter out) {
        try {
            return service.cluster.sync();
        } catch (CommitException e) {
            ConfigVersion local = service.cluster.running();
            out.println("note: " + e.getMessage() + "; using version " + local.version() + " as this node has it");
            return local;
        }
    }

    private ConfigVersion storedVersion(long version) throws CliException {
        ConfigVersion running = service.cluster.running();
        if (running.version() == version) return running;
        return service.store.version(version).orElseThrow(() -> new CliException("no version " + version
                + " on this node (it has versions up to " + running.version() + "; see show config history)"));
    }

    private void requireAdmin(String what) throws CliException {
        if (!user.isAdmin()) {
            throw new CliException(what + " needs the admin role; " + user.name() + " is an operator");
        }
    }

    private static long number(List<String> w, int index, long otherwise, String usage) throws CliException {
        if (w.size() <= index) {
            if (otherwise >= 0) return otherwise;
            throw new CliException("usage: " + usage);
        }
        try {
            return Long.parseLong(w.get(index));
        } catch (NumberFormatException e) {
            throw new CliException("\"" + w.get(index) + "\" is not a number (usage: " + usage + ")");
        }
    }

    private void help(PrintWriter out) {
        Help.print(candidate != null, service.extensions, out);
    }
}
