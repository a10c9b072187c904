package dev.tandem.config;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of the cluster document, read off its record types: what the shell completes, what
 * {@code set} accepts and what a path means. One source of truth, so a field a component adds to its
 * record is settable and completable with no shell change.
 */
public sealed interface ConfigSchema {
    /** A record: named fields. */
    record Section(Map<String, ConfigSchema> fields) implements ConfigSchema {}

    /**
     * A list of records that have a {@code name}: addressed by that name ({@code users.alice}). With
     * {@code dottedNames}, a name may contain dots and span several steps of a path ({@code dns.zones.demo.test}).
     */
    record NamedList(Section element, boolean dottedNames) implements ConfigSchema {}

    /** A list or set of plain values ({@code roles}, {@code keys}): {@code set} adds one, {@code delete} removes one. */
    record ValueList(Value element) implements ConfigSchema {}

    /** A plain value. */
    record Value(Kind kind, List<String> choices) implements ConfigSchema {
        public enum Kind {
            TEXT,
            NUMBER,
            DURATION,
            CHOICE
        }

        public String describe() {
            return switch (kind) {
                case TEXT -> "text";
                case NUMBER -> "a whole number";
                case DURATION -> "a duration such as 500ms, 3s, 2m";
                case CHOICE -> "one of " + String.join(", ", choices);
            };
        }
    }

    ConfigSchema CLUSTER = of(ClusterConfig.class);

    static ConfigSchema of(Class<?> type) {
        return forType(type);
    }

    private static ConfigSchema forType(Type type) {
        if (type instanceof ParameterizedType p && Collection.class.isAssignableFrom((Class<?>) p.getRawType())) {
            ConfigSchema element = forType(p.getActualTypeArguments()[0]);
            if (element instanceof Section s && s.fields().containsKey("name")) {
                return new NamedList(s, dottedNames((Class<?>) p.getActualTypeArguments()[0]));
            }
            if (element instanceof Value v) return new ValueList(v);
            throw new IllegalArgumentException("unsupported list element " + p);
        }
        Class<?> raw = (Class<?>) type;
        if (raw.isRecord()) {
            Map<String, ConfigSchema> fields = new LinkedHashMap<>();
            for (RecordComponent c : raw.getRecordComponents()) {
                fields.put(snake(c.getName()), forType(c.getGenericType()));
            }
            return new Section(fields);
        }
        if (raw.isEnum()) {
            return new Value(Value.Kind.CHOICE,
                    Arrays.stream(raw.getEnumConstants()).map(e -> e.toString().toLowerCase()).toList());
        }
        if (raw == Integer.class || raw == int.class || raw == Long.class || raw == long.class) {
            return new Value(Value.Kind.NUMBER, List.of());
        }
        if (raw == Duration.class) return new Value(Value.Kind.DURATION, List.of());
        return new Value(Value.Kind.TEXT, List.of());
    }

    private static boolean dottedNames(Class<?> record) {
        for (RecordComponent c : record.getRecordComponents()) {
            ConfigName marker = c.getAnnotation(ConfigName.class);
            if (c.getName().equals("name") && marker != null) return marker.dotted();
        }
        return false;
    }

    private static String snake(String camel) {
        return new PropertyNamingStrategies.SnakeCaseStrategy().translate(camel);
    }
}
