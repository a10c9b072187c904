package dev.tandem.shell.cli;

import dev.tandem.component.ShellCommand;
import dev.tandem.component.Table;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** The commands of each mode with one line of help: for {@code help}, {@code ?} and completion. */
final class Help {
    record Entry(String words, String help) {}

    static final List<Entry> OPERATIONAL = List.of(
            new Entry("show cluster", "members, sites, roles, reachability, leader, applied versions"),
            new Entry("show config", "[PATH] the running document (--yaml, --json or --set)"),
            new Entry("show config history", "[COUNT] committed versions: who, from where, when, why"),
            new Entry("show config diff", "V1 V2 what changed between two versions"),
            new Entry("show audit", "[COUNT] commits, rollbacks, logins and refused logins on this node"),
            new Entry("show version", "software and running config version"),
            new Entry("configure", "edit a private copy of the document (admin)"),
            new Entry("rollback", "VERSION commit an old version's document as a new version (admin)"),
            new Entry("help", "this list"),
            new Entry("exit", "log out"));

    static final List<Entry> CONFIGURE = List.of(
            new Entry("set", "PATH VALUE set a value, create an entry, or add to a list"),
            new Entry("delete", "PATH [VALUE] delete a value, an entry, or one value of a list"),
            new Entry("show", "[PATH] the candidate (--yaml, --json or --set)"),
            new Entry("compare", "your changes against the running document"),
            new Entry("commit", "[comment TEXT] apply the candidate to the whole cluster"),
            new Entry("commit confirm", "MINUTES [comment TEXT] commit, and roll back unless confirmed in time"),
            new Entry("confirm", "keep the pending commit confirm"),
            new Entry("rollback", "VERSION commit an old version's document as a new version"),
            new Entry("discard", "drop your changes"),
            new Entry("update", "rebase your changes onto the newest running version"),
            new Entry("run", "COMMAND run an operational command, e.g. run show cluster"),
            new Entry("exit", "leave configure mode (exit discard drops uncommitted changes)"));

    private Help() {}

    static List<Entry> entries(boolean configuring, List<ShellCommand> extensions) {
        List<Entry> all = new ArrayList<>(configuring ? CONFIGURE : OPERATIONAL);
        if (!configuring) extensions.forEach(c -> all.add(new Entry(String.join(" ", c.words()), c.help())));
        return all;
    }

    static void print(boolean configuring, List<ShellCommand> extensions, PrintWriter out) {
        Table table = new Table("COMMAND", "");
        entries(configuring, extensions).forEach(e -> table.row(e.words(), e.help()));
        table.print(out);
        out.println("Paths are dotted, with list entries by name: users.alice.role, sites.site-a.description, "
                + "cluster.failure_detection.timeout. Tab completes; ? shows what may come next.");
    }
}
