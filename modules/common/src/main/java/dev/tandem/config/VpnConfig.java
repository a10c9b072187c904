package dev.tandem.config;

/** The `vpn` section. Typed and empty until the vpn component fills it. */
public record VpnConfig() {}
