package dev.tandem.cluster;

/** A configured node as this node sees it now. */
public record Member(String name, String site, String role, boolean reachable) {}
