package dev.tandem.config;

/** The `volumes` section. Typed and empty until the volumes component fills it. */
public record VolumesConfig() {}
