package dev.tandem.shell.cli;

import dev.tandem.config.ConfigSchema;
import dev.tandem.config.ConfigSchema.NamedList;
import dev.tandem.config.ConfigSchema.Section;
import dev.tandem.config.ConfigSchema.Value;
import dev.tandem.config.ConfigSchema.ValueList;
import dev.tandem.config.ConfigTree;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * Tab completion and {@code ?} help: command words of the current mode, config paths (from the schema
 * and the names in the document), and values where the schema knows them.
 */
final class CliCompleter implements Completer {
    private final CliSession session;

    CliCompleter(CliSession session) {
        this.session = session;
    }

    /** A possible next word, with what it is. {@code complete}: nothing can follow inside the word. */
    record Option(String word, String help, boolean complete) {}

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        String current = line.word().substring(0, line.wordCursor());
        for (Option o : options(line.words().subList(0, line.wordIndex()), current)) {
            candidates.add(new Candidate(o.word(), o.word(), null, o.help(), null, null, o.complete()));
        }
    }

    /** What may stand at the position after {@code before}, starting with {@code current}. */
    List<Option> options(List<String> before, String current) {
        List<Option> out = new ArrayList<>();
        List<String> words = new ArrayList<>(before);
        words.removeIf(w -> w.startsWith("--"));
        if (!session.configuring() && words.size() >= 1 && words.get(0).equals("configure")) return out;
        boolean configuring = session.configuring();
        if (configuring && !words.isEmpty() && words.get(0).equals("run")) {
            words.remove(0);
            configuring = false;
        }
        Set<String> next = new LinkedHashSet<>();
        for (Help.Entry e : Help.entries(configuring, session.extensions())) {
            String[] fixed = e.words().split(" ");
            if (fixed.length > words.size() && matches(fixed, words) && fixed[words.size()].startsWith(current)
                    && next.add(fixed[words.size()])) {
                out.add(new Option(fixed[words.size()], e.help(), true));
            }
        }
        if (configuring && !words.isEmpty()) {
            String verb = words.get(0);
            if (words.size() == 1 && (verb.equals("set") || verb.equals("delete") || verb.equals("show"))) paths(current, out);
            if (words.size() == 2 && verb.equals("set")) values(words.get(1), current, out);
            if (words.size() == 2 && verb.equals("delete")) existingValues(words.get(1), current, out);
        } else if (!configuring && words.size() == 2 && words.get(0).equals("show") && words.get(1).equals("config")) {
            paths(current, out);
        }
        return out;
    }

    private static boolean matches(String[] fixed, List<String> words) {
        for (int i = 0; i < words.size(); i++) if (!fixed[i].equals(words.get(i))) return false;
        return true;
    }

    private void paths(String current, List<Option> out) {
        int dot = current.lastIndexOf('.');
        String parent = dot < 0 ? "" : current.substring(0, dot);
        String prefix = dot < 0 ? "" : parent + ".";
        ConfigTree tree = session.tree();
        ConfigSchema parentSchema = ConfigTree.schemaAt(parent);
        List<String> children = new ArrayList<>(tree.childNames(parent));
        if (parentSchema instanceof NamedList) children.add("NAME");
        for (String child : children) {
            String path = prefix + child;
            if (!path.startsWith(current)) continue;
            if (child.equals("NAME")) {
                out.add(new Option(current.endsWith(".") ? current : path, "a new entry: give it a name", false));
                continue;
            }
            ConfigSchema schema = ConfigTree.schemaAt(path);
            boolean leaf = schema instanceof Value || schema instanceof ValueList;
            out.add(new Option(leaf ? path : path + ".", describe(schema), leaf));
        }
    }

    private static String describe(ConfigSchema schema) {
        if (schema instanceof Value v) return v.describe();
        if (schema instanceof ValueList l) return "a list of values: " + l.element().describe();
        if (schema instanceof NamedList) return "entries by name";
        if (schema instanceof Section) return "section";
        return "";
    }

    private static void values(String path, String current, List<Option> out) {
        ConfigSchema schema = ConfigTree.schemaAt(path);
        Value value = schema instanceof Value v ? v : schema instanceof ValueList l ? l.element() : null;
        if (value == null) return;
        if (value.kind() == Value.Kind.CHOICE) {
            value.choices().stream().filter(c -> c.startsWith(current)).forEach(c -> out.add(new Option(c, "", true)));
        }
    }

    private void existingValues(String path, String current, List<Option> out) {
        try {
            var node = session.tree().get(path);
            if (node != null && node.isArray()) {
                node.forEach(v -> {
                    if (v.asText().startsWith(current)) out.add(new Option(v.asText(), "", true));
                });
            }
        } catch (Exception e) {
            // nothing to offer for a path that does not exist
        }
    }
}
