package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Duration;

/**
 * How every checking node decides whether a pool member is alive: a TCP connect, or an HTTP(S) GET
 * that must return {@code expectStatus}. A member goes down after {@code fall} failures in a row and
 * comes back after {@code rise} successes in a row.
 *
 * @param port the member's port to check (for http 80, https 443 unless set; required for tcp)
 */
public record HealthCheck(
        Type type, Integer port, String path, Integer expectStatus, Duration interval, Duration timeout, Integer fall, Integer rise) {
    public static final HealthCheck DEFAULT = new HealthCheck(null, null, null, null, null, null, null, null);

    public HealthCheck {
        type = type == null ? Type.TCP : type;
        path = path == null ? "/" : path;
        expectStatus = expectStatus == null ? 200 : expectStatus;
        interval = interval == null ? Duration.ofSeconds(2) : interval;
        timeout = timeout == null ? Duration.ofSeconds(1) : timeout;
        fall = fall == null ? 2 : fall;
        rise = rise == null ? 2 : rise;
        if (port == null && type == Type.HTTP) port = 80;
        if (port == null && type == Type.HTTPS) port = 443;
    }

    public enum Type {
        TCP,
        HTTP,
        HTTPS;

        @JsonValue
        @Override
        public String toString() {
            return name().toLowerCase();
        }
    }
}
