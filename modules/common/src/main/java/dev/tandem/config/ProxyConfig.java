package dev.tandem.config;

/** The `proxy` section. Typed and empty until the proxy component fills it. */
public record ProxyConfig() {}
