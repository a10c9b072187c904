package dev.tandem.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.config.ConfigSchema.NamedList;
import dev.tandem.config.ConfigSchema.Section;
import dev.tandem.config.ConfigSchema.Value;
import dev.tandem.config.ConfigSchema.ValueList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cluster document as an editable tree, addressed by dotted paths in which list elements are named:
 * {@code users.alice.role}, {@code sites.site-a.description}, {@code cluster.failure_detection.timeout}.
 * Edits check the path against {@link ConfigSchema}; whether the whole document is valid is decided
 * by {@link #toConfig()}, with the same validator as every commit.
 */
public final class ConfigTree {
    private static final Pattern INDEXED = Pattern.compile("(\\w+)\\[(\\d+)]");
    private static final Pattern PLAIN_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final String LABEL = "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?";
    private static final Pattern DOTTED_NAME = Pattern.compile("@|(\\*|" + LABEL + ")(\\." + LABEL + ")*");
    private final ObjectNode root;

    private ConfigTree(ObjectNode root) {
        this.root = root;
    }

    public static ConfigTree of(ClusterConfig config) {
        return new ConfigTree(ConfigCodec.json().valueToTree(config));
    }

    public ConfigTree copy() {
        return new ConfigTree(root.deepCopy());
    }

    /** The document, validated; errors name dotted paths ({@code users.alice.role}), not list indexes. */
    public ClusterConfig toConfig() throws InvalidConfigException {
        try {
            return ConfigValidator.validate(ConfigCodec.readJson(ConfigCodec.toJson(root)));
        } catch (InvalidConfigException e) {
            throw new InvalidConfigException(e.errors().stream()
                    .map(err -> new ConfigError(namedPath(err.path()), err.message()))
                    .toList());
        }
    }

    /**
     * The document as it stands, not yet validated (a candidate half-way through an edit may refer to a
     * site not yet added): for showing and comparing. Paths and values were checked as they were set.
     */
    public ClusterConfig toUncheckedConfig() {
        try {
            return ConfigCodec.readJson(ConfigCodec.toJson(root));
        } catch (InvalidConfigException e) {
            throw new IllegalStateException("the tree no longer reads as a document: " + e.getMessage(), e);
        }
    }

    /** Creates a section or a named entry ({@code set sites.site-d}) if it does not exist yet. */
    public void create(String path) throws InvalidConfigException {
        atomically(() -> doCreate(path));
    }

    private void doCreate(String path) throws InvalidConfigException {
        Located at = locate(path, true);
        if (at.schema instanceof Value v) throw new InvalidConfigException(path, "needs a value: " + v.describe());
        if (at.schema instanceof ValueList l) throw new InvalidConfigException(path, "needs a value to add: " + l.element().describe());
        if (at.element < 0 && !(at.parent.get(at.key) instanceof ObjectNode) && at.schema instanceof Section) at.parent.putObject(at.key);
        if (at.element < 0 && at.schema instanceof NamedList) throw new InvalidConfigException(path, "give the name of an entry, e.g. " + path + ".NAME");
    }

    /** Sets a value, creating sections and named elements on the way; on a value list, adds the value. */
    public void set(String path, String value) throws InvalidConfigException {
        atomically(() -> doSet(path, value));
    }

    private void doSet(String path, String value) throws InvalidConfigException {
        Located at = locate(path, true);
        if (at.schema instanceof Value v) {
            at.parent.set(at.key, scalar(path, v, value));
        } else if (at.schema instanceof ValueList list) {
            JsonNode converted = scalar(path, list.element(), value);
            ArrayNode array = at.parent.has(at.key) && at.parent.get(at.key).isArray()
                    ? (ArrayNode) at.parent.get(at.key)
                    : at.parent.putArray(at.key);
            for (JsonNode existing : array) if (existing.equals(converted)) return;
            array.add(converted);
        } else {
            throw new InvalidConfigException(path, "is a section, not a value; set one of its fields: " + String.join(", ", children(at.schema)));
        }
    }

    /** Deletes what the path names; with a value, deletes only that value from a value list. */
    public void delete(String path, String value) throws InvalidConfigException {
        Located at = locate(path, false);
        if (value != null) {
            if (!(at.schema instanceof ValueList list)) throw new InvalidConfigException(path, "is not a list of values");
            JsonNode converted = scalar(path, list.element(), value);
            JsonNode array = at.parent.get(at.key);
            if (array != null) {
                for (Iterator<JsonNode> it = array.elements(); it.hasNext(); ) {
                    if (it.next().equals(converted)) {
                        it.remove();
                        return;
                    }
                }
            }
            throw new InvalidConfigException(path, "has no value " + value);
        }
        if (at.element >= 0) {
            ((ArrayNode) at.parent.get(at.key)).remove(at.element);
        } else if (at.parent.remove(at.key) == null) {
            throw new InvalidConfigException(path, "is not set");
        }
    }

    private interface Edit {
        void run() throws InvalidConfigException;
    }

    /** A refused edit leaves no trace (an entry created on the way to a bad step is taken back). */
    private void atomically(Edit edit) throws InvalidConfigException {
        ObjectNode before = root.deepCopy();
        try {
            edit.run();
        } catch (InvalidConfigException | RuntimeException e) {
            root.removeAll();
            root.setAll(before);
            throw e;
        }
    }

    /** The subtree at a path (the whole document for an empty path), or null if nothing is set there. */
    public JsonNode get(String path) throws InvalidConfigException {
        if (path == null || path.isEmpty()) return root;
        Located at = locate(path, false);
        JsonNode holder = at.parent.get(at.key);
        return at.element >= 0 ? holder.get(at.element) : holder;
    }

    /** What may follow {@code path + "."}: a section's fields, or the names of a list's entries. For completion. */
    public List<String> childNames(String path) {
        if (path == null || path.isEmpty()) return children(ConfigSchema.CLUSTER);
        try {
            Located at = locate(path, false);
            if (at.schema instanceof NamedList && at.element < 0) {
                List<String> names = new ArrayList<>();
                at.parent.path(at.key).forEach(e -> names.add(e.path("name").asText()));
                return names;
            }
            return at.element >= 0 ? entryFields(at.schema) : children(at.schema);
        } catch (InvalidConfigException e) {
            // an entry not created yet (users.dave): its fields are still known
            Resolved r = resolve(path.split("\\.", -1));
            if (r == null) return List.of();
            return r.entry ? entryFields(r.schema) : children(r.schema);
        }
    }

    /** The schema at a path, or null if the path means nothing. */
    public static ConfigSchema schemaAt(String path) {
        if (path == null || path.isEmpty()) return ConfigSchema.CLUSTER;
        Resolved r = resolve(path.split("\\.", -1));
        return r == null ? null : r.schema;
    }

    /** A path read against the schema alone: where it ends, and whether that is a list entry. */
    private record Resolved(ConfigSchema schema, boolean entry) {}

    private static Resolved resolve(String[] segments) {
        ConfigSchema schema = ConfigSchema.CLUSTER;
        boolean entry = false;
        for (int i = 0; i < segments.length; i++) {
            if (!(schema instanceof Section section)) return null;
            schema = section.fields().get(segments[i]);
            entry = false;
            if (schema == null) return null;
            if (schema instanceof NamedList list && i + 1 < segments.length) {
                int span = nameSpan(list, segments, i + 1, null);
                if (span == 0) return null;
                i += span;
                schema = list.element();
                entry = true;
            }
        }
        return new Resolved(schema, entry);
    }

    /** Whether {@code segments[from..]} is a path inside {@code schema} (an empty rest is). */
    private static boolean validPath(ConfigSchema schema, String[] segments, int from) {
        if (from == segments.length) return true;
        if (!(schema instanceof Section section)) return false;
        ConfigSchema child = section.fields().get(segments[from]);
        if (child == null) return false;
        if (child instanceof NamedList list) return from + 1 == segments.length || nameSpan(list, segments, from + 1, null) > 0;
        if (child instanceof Section) return validPath(child, segments, from + 1);
        return from + 1 == segments.length;
    }

    /**
     * How many steps from {@code from} an entry's name takes: one, unless the list allows dotted names.
     * Then, in turn: the longest existing name after which the path goes on validly; the shortest name
     * after which it does; the longest existing name (so that an error names the bad step after it);
     * the whole rest (a new entry). Zero only for a plain list whose entry is followed by nonsense.
     */
    private static int nameSpan(NamedList list, String[] segments, int from, ArrayNode existing) {
        int max = segments.length - from;
        if (!list.dottedNames()) return validPath(list.element(), segments, from + 1) ? 1 : 0;
        if (existing != null) {
            for (int k = max; k >= 1; k--) {
                if (indexOfName(existing, join(segments, from, from + k)) >= 0 && validPath(list.element(), segments, from + k)) return k;
            }
        }
        for (int k = 1; k < max; k++) if (validPath(list.element(), segments, from + k)) return k;
        if (existing != null) {
            for (int k = max - 1; k >= 1; k--) if (indexOfName(existing, join(segments, from, from + k)) >= 0) return k;
        }
        return max;
    }

    private static String join(String[] segments, int from, int to) {
        return String.join(".", java.util.Arrays.copyOfRange(segments, from, to));
    }

    private static List<String> entryFields(ConfigSchema schema) {
        // an entry's name is part of its path, not a field to set
        return children(schema).stream().filter(f -> !f.equals("name")).toList();
    }

    private static List<String> children(ConfigSchema schema) {
        if (schema instanceof Section s) return List.copyOf(s.fields().keySet());
        return List.of();
    }

    /** Where a path ends: {@code parent.get(key)}, or element {@code element} of that array when it names a list entry. */
    private record Located(ObjectNode parent, String key, int element, ConfigSchema schema) {}

    private Located locate(String path, boolean create) throws InvalidConfigException {
        if (path == null || path.isBlank()) throw new InvalidConfigException("", "a path is needed, e.g. users.alice.role");
        String[] segments = path.split("\\.", -1);
        ConfigSchema schema = ConfigSchema.CLUSTER;
        ObjectNode holder = root;
        boolean inNamedEntry = false;
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            String here = String.join(".", java.util.Arrays.copyOf(segments, i + 1));
            if (segment.isEmpty()) throw new InvalidConfigException(path, "empty step in the path");
            Section section = (Section) schema;
            ConfigSchema child = section.fields().get(segment);
            if (child == null) {
                String parent = i == 0 ? "the document" : String.join(".", java.util.Arrays.copyOf(segments, i));
                throw new InvalidConfigException(here, "unknown; " + parent + " has: " + String.join(", ", section.fields().keySet()));
            }
            boolean last = i == segments.length - 1;
            if (child instanceof NamedList list) {
                if (last) return new Located(holder, segment, -1, child);
                ArrayNode array = holder.get(segment) instanceof ArrayNode a ? a : null;
                int span = nameSpan(list, segments, i + 1, array);
                if (span == 0) span = 1; // a plain list: the error names the step after the entry
                String name = join(segments, i + 1, i + 1 + span);
                i += span;
                String entry = here + "." + name;
                int index = array == null ? -1 : indexOfName(array, name);
                if (index < 0) {
                    if (!create) throw new InvalidConfigException(entry, "no such entry (there are: " + (array == null ? "none" : names(array)) + ")");
                    Pattern valid = list.dottedNames() ? DOTTED_NAME : PLAIN_NAME;
                    if (!valid.matcher(name).matches()) {
                        throw new InvalidConfigException(entry, "\"" + name + "\" is not a valid name (" + (list.dottedNames()
                                ? "lower-case DNS labels of letters, digits, '-' and '_', joined by dots; '@' for the apex; '*' for a wildcard"
                                : "lower-case letters, digits and '-'") + ")");
                    }
                    if (array == null) array = holder.putArray(segment);
                    array.addObject().put("name", name);
                    index = array.size() - 1;
                }
                if (i == segments.length - 1) return new Located(holder, segment, index, list.element());
                holder = (ObjectNode) array.get(index);
                schema = list.element();
                inNamedEntry = true;
            } else if (child instanceof Section) {
                if (last) return new Located(holder, segment, -1, child);
                JsonNode node = holder.get(segment);
                if (!(node instanceof ObjectNode)) {
                    if (!create) throw new InvalidConfigException(here, "is not set");
                    node = holder.putObject(segment);
                }
                holder = (ObjectNode) node;
                schema = child;
                inNamedEntry = false;
            } else {
                if (!last) throw new InvalidConfigException(here, "is a value; it has no " + segments[i + 1]);
                if (inNamedEntry && segment.equals("name")) {
                    throw new InvalidConfigException(path, "a name is part of the path; to rename, delete the entry and set it anew");
                }
                return new Located(holder, segment, -1, child);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private static int indexOfName(ArrayNode array, String name) {
        for (int i = 0; i < array.size(); i++) if (name.equals(array.get(i).path("name").asText(null))) return i;
        return -1;
    }

    private static String names(ArrayNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(e -> names.add(e.path("name").asText()));
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private static JsonNode scalar(String path, Value schema, String text) throws InvalidConfigException {
        switch (schema.kind()) {
            case NUMBER -> {
                try {
                    return JsonNodeFactory.instance.numberNode(Integer.parseInt(text));
                } catch (NumberFormatException e) {
                    throw new InvalidConfigException(path, "\"" + text + "\" is not a whole number");
                }
            }
            case DURATION -> {
                try {
                    return JsonNodeFactory.instance.textNode(HumanDurations.format(HumanDurations.parse(text)));
                } catch (IllegalArgumentException e) {
                    throw new InvalidConfigException(path, e.getMessage());
                }
            }
            case CHOICE -> {
                if (!schema.choices().contains(text)) {
                    throw new InvalidConfigException(path, "\"" + text + "\" is not " + schema.describe());
                }
                return JsonNodeFactory.instance.textNode(text);
            }
            default -> {
                return JsonNodeFactory.instance.textNode(text);
            }
        }
    }

    /** {@code users[1].role} → {@code users.alice.role}, using the names in this tree. */
    String namedPath(String indexed) {
        StringBuilder out = new StringBuilder();
        JsonNode node = root;
        for (String segment : indexed.split("\\.")) {
            if (out.length() > 0) out.append('.');
            Matcher m = INDEXED.matcher(segment);
            if (m.matches() && node != null) {
                JsonNode element = node.path(m.group(1)).path(Integer.parseInt(m.group(2)));
                String name = element.path("name").asText("");
                out.append(m.group(1)).append(name.isEmpty() ? "[" + m.group(2) + "]" : "." + name);
                node = element;
            } else {
                out.append(segment);
                node = node == null ? null : node.get(segment);
            }
        }
        return out.toString();
    }
}
