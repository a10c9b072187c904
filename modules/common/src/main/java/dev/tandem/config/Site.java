package dev.tandem.config;

/** A failure domain: a datacenter, a cloud region, an office rack. */
public record Site(String name, String description) {}
