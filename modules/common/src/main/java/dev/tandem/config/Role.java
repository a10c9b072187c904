package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a node does: runs the services, or only votes (a witness at a third location). */
public enum Role {
    SERVICES,
    WITNESS;

    @JsonValue
    public String yamlName() {
        return name().toLowerCase();
    }
}
