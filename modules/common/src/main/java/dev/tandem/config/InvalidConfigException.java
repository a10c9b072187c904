package dev.tandem.config;

import java.util.List;
import java.util.stream.Collectors;

/** A document that must not be applied, with every problem found in it. */
public class InvalidConfigException extends Exception {
    private final List<ConfigError> errors;

    public InvalidConfigException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n")));
        this.errors = List.copyOf(errors);
    }

    public InvalidConfigException(String path, String message) {
        this(List.of(new ConfigError(path, message)));
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
