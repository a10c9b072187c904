package dev.tandem.store;

import java.time.Instant;

/** Who did what, from where, when. Config commits write one each; later components add theirs. */
public record AuditEntry(Instant at, String who, String origin, String action, String detail) {}
