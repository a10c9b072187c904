package dev.tandem.dns.server;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/** At most one warning a second, with a count of what was left out: a flood of bad packets must not flood the log. */
public final class RateLimitedLog {
    private final Logger log;
    private final AtomicLong lastAt = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log) {
        this.log = log;
    }

    public void warn(String message, Throwable cause) {
        long now = System.nanoTime();
        long last = lastAt.get();
        if (now - last < 1_000_000_000L || !lastAt.compareAndSet(last, now)) {
            suppressed.incrementAndGet();
            return;
        }
        long skipped = suppressed.getAndSet(0);
        log.warn(skipped == 0 ? message : message + " (and " + skipped + " similar since the last report)", cause);
    }
}
