package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;

/** An operator of the shell, with the OpenSSH public keys that let them in on every node. */
public record User(String name, Level role, List<String> keys) {

    public User {
        keys = keys == null ? List.of() : List.copyOf(keys);
    }

    public enum Level {
        /** may change configuration and run failover commands */
        ADMIN,
        /** may only look */
        OPERATOR;

        @JsonValue
        public String yamlName() {
            return name().toLowerCase();
        }
    }
}
