package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * YAML and JSON in and out for config documents. Reading is strict: an unknown field or a wrong
 * type is an error naming its path, never silently dropped.
 */
public final class ConfigCodec {
    private static final ObjectMapper YAML = configure(YAMLMapper.builder(YAMLFactory.builder()
                            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                            .build())
                    .build());
    private static final ObjectMapper JSON = configure(JsonMapper.builder().build());

    private ConfigCodec() {}

    private static ObjectMapper configure(ObjectMapper mapper) {
        return mapper.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .setSerializationInclusion(JsonInclude.Include.NON_NULL)
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
                .configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS, true)
                .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
                .registerModule(new JavaTimeModule())
                // registered last so that it, not JavaTimeModule's ISO-8601 form, handles Duration
                .registerModule(HumanDurations.jacksonModule());
    }

    /** The shared JSON mapper (snake_case, strict), also used for raft commands and status documents. */
    public static ObjectMapper json() {
        return JSON;
    }

    public static ObjectMapper yaml() {
        return YAML;
    }

    public static ClusterConfig readYaml(String text) throws InvalidConfigException {
        return read(YAML, text, ClusterConfig.class);
    }

    public static ClusterConfig readYaml(Path file) throws InvalidConfigException {
        return readYaml(readFile(file));
    }

    public static ClusterConfig readJson(String text) throws InvalidConfigException {
        return read(JSON, text, ClusterConfig.class);
    }

    public static String toYaml(Object document) {
        return write(YAML, document);
    }

    public static String toJson(Object document) {
        return write(JSON, document);
    }

    static String readFile(Path file) throws InvalidConfigException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new InvalidConfigException("", "cannot read " + file + ": " + e);
        }
    }

    static <T> T read(ObjectMapper mapper, String text, Class<T> type) throws InvalidConfigException {
        if (text.isBlank()) {
            throw new InvalidConfigException("", "the document is empty");
        }
        try {
            return mapper.readValue(text, type);
        } catch (JsonMappingException e) {
            throw new InvalidConfigException(List.of(new ConfigError(pathOf(e), describe(e))));
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new InvalidConfigException(where, "not valid " + formatName(mapper) + ": " + e.getOriginalMessage());
        }
    }

    private static String formatName(ObjectMapper mapper) {
        return mapper == YAML ? "YAML" : "JSON";
    }

    static String pathOf(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            } else if (ref.getFieldName() != null) {
                if (path.length() > 0) path.append('.');
                path.append(ref.getFieldName());
            }
        }
        return path.toString();
    }

    private static String describe(JsonMappingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field (known here: " + String.join(", ", u.getKnownPropertyIds().stream().map(Object::toString).sorted().toList()) + ")";
        }
        if (e instanceof InvalidFormatException f) {
            String expected = f.getTargetType().isEnum()
                    ? "one of " + enumNames(f.getTargetType())
                    : f.getTargetType().getSimpleName().toLowerCase();
            String detail = f.getTargetType() == java.time.Duration.class ? e.getOriginalMessage().replaceFirst("(?s).*?: ", "") : "expected " + expected;
            return "\"" + f.getValue() + "\" is not valid: " + detail;
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return "wrong type: expected " + kindOf(m.getTargetType());
        }
        return e.getOriginalMessage();
    }

    private static String enumNames(Class<?> type) {
        return String.join(", ", java.util.Arrays.stream(type.getEnumConstants()).map(c -> c.toString().toLowerCase()).toList());
    }

    private static String kindOf(Class<?> type) {
        if (java.util.Collection.class.isAssignableFrom(type)) return "a list";
        if (type.isRecord() || java.util.Map.class.isAssignableFrom(type)) return "a mapping";
        if (Number.class.isAssignableFrom(type) || type.isPrimitive()) return "a number";
        return "a " + type.getSimpleName().toLowerCase();
    }

    private static String write(ObjectMapper mapper, Object document) {
        try {
            return mapper.writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
