package dev.tandem.config;

/** The `dns` section. Typed and empty until the dns component fills it. */
public record DnsConfig() {}
