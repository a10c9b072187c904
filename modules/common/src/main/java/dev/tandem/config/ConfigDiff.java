package dev.tandem.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Documents as {@code set} lines ({@code set users.alice.role admin}) and their differences as lines
 * to add and remove: exact, and readable as the commands that would make the change.
 */
public final class ConfigDiff {
    private ConfigDiff() {}

    /** One line per value, in document order. */
    public static List<String> setLines(ClusterConfig config) {
        List<String> lines = new ArrayList<>();
        flatten("", ConfigCodec.json().valueToTree(config), lines);
        return lines;
    }

    /** Lines of {@code after} not in {@code before} prefixed "+ ", and the reverse prefixed "- ". */
    public static List<String> diff(ClusterConfig before, ClusterConfig after) {
        Set<String> old = new LinkedHashSet<>(setLines(before));
        Set<String> now = new LinkedHashSet<>(setLines(after));
        List<String> out = new ArrayList<>();
        for (String line : old) if (!now.contains(line)) out.add("- " + line);
        for (String line : now) if (!old.contains(line)) out.add("+ " + line);
        return out;
    }

    /** A one-line summary for the audit log: the first few changes and how many in all. */
    public static String summary(ClusterConfig before, ClusterConfig after, int maxChars) {
        List<String> changes = diff(before, after);
        if (changes.isEmpty()) return "no change";
        String joined = String.join("; ", changes);
        String head = changes.size() + (changes.size() == 1 ? " change: " : " changes: ");
        return head + (joined.length() > maxChars ? joined.substring(0, maxChars) + "…" : joined);
    }

    private static void flatten(String path, JsonNode node, List<String> out) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : (Iterable<Map.Entry<String, JsonNode>>) node::fields) {
                flatten(join(path, field.getKey()), field.getValue(), out);
            }
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                if (element.isObject() && element.has("name")) {
                    // the entry's own line, so that its existence is a change apart from its fields'
                    String entry = join(path, element.get("name").asText());
                    out.add("set " + entry);
                    element.fields().forEachRemaining(f -> {
                        if (!f.getKey().equals("name")) flatten(join(entry, f.getKey()), f.getValue(), out);
                    });
                } else {
                    out.add("set " + path + " " + quote(element.asText()));
                }
            }
        } else if (!node.isNull()) {
            out.add("set " + path + " " + quote(node.asText()));
        }
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Quotes values the shell would otherwise split, so every line can be pasted back. */
    public static String quote(String value) {
        if (!value.isEmpty() && value.chars().noneMatch(c -> Character.isWhitespace(c) || c == '"' || c == '\'' || c == ';' || c == '\\')) {
            return value;
        }
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
