package dev.tandem.shell.ssh;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per remote address back-off for failed logins: after {@link #MAX_FAILURES} failed connections from one
 * address within {@link #WINDOW}, logins from it are refused for 10 s, then 20 s, 40 s ... up to 5 min for each
 * further burst; the level is forgotten after {@link #FORGET_AFTER} without failures. Never sleeps: callers ask
 * {@link #blockedFor} and refuse at once. Thread-safe.
 */
final class LoginThrottle {
    static final int MAX_FAILURES = 5;
    static final Duration WINDOW = Duration.ofMinutes(1);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(10);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
    static final Duration FORGET_AFTER = Duration.ofMinutes(15);
    private static final int MAX_TRACKED = 10_000;

    private final LongSupplier nanoClock;
    private final Map<String, Entry> byAddress = new HashMap<>();
    private int untilPurge = 256;

    private static final class Entry {
        final ArrayDeque<Long> failures = new ArrayDeque<>();
        int level;
        boolean blocked;
        long blockedUntil;
        boolean failed;
        long lastFailure;

        boolean blockedAt(long now) {
            return blocked && blockedUntil - now > 0;
        }
    }

    LoginThrottle() {
        this(System::nanoTime);
    }

    LoginThrottle(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** How much longer logins from {@code address} are refused; zero if they are not. */
    synchronized Duration blockedFor(String address) {
        Entry e = byAddress.get(address);
        if (e == null) {
            return Duration.ZERO;
        }
        long now = nanoClock.getAsLong();
        return e.blockedAt(now) ? Duration.ofNanos(e.blockedUntil - now) : Duration.ZERO;
    }

    /**
     * Counts one failed login from {@code address}; returns the back-off this failure starts, or zero.
     * Failures while a back-off runs are not counted (they neither extend nor escalate it).
     */
    synchronized Duration failure(String address) {
        long now = nanoClock.getAsLong();
        purgeNowAndThen(now);
        Entry e = byAddress.computeIfAbsent(address, a -> new Entry());
        if (e.blockedAt(now)) {
            return Duration.ZERO;
        }
        if (e.failed && now - e.lastFailure > FORGET_AFTER.toNanos()) {
            e.level = 0;
        }
        e.failed = true;
        e.lastFailure = now;
        while (!e.failures.isEmpty() && now - e.failures.peekFirst() > WINDOW.toNanos()) {
            e.failures.pollFirst();
        }
        e.failures.addLast(now);
        if (e.failures.size() < MAX_FAILURES) {
            return Duration.ZERO;
        }
        e.failures.clear();
        Duration backoff = FIRST_BACKOFF.multipliedBy(1L << Math.min(e.level, 20));
        if (backoff.compareTo(MAX_BACKOFF) > 0) {
            backoff = MAX_BACKOFF;
        }
        e.level++;
        e.blocked = true;
        e.blockedUntil = now + backoff.toNanos();
        return backoff;
    }

    synchronized int tracked() {
        return byAddress.size();
    }

    private void purgeNowAndThen(long now) {
        if (--untilPurge > 0 && byAddress.size() < MAX_TRACKED) {
            return;
        }
        untilPurge = 256;
        for (Iterator<Entry> it = byAddress.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (!e.blockedAt(now) && now - e.lastFailure > FORGET_AFTER.toNanos()) {
                it.remove();
            }
        }
        if (byAddress.size() >= MAX_TRACKED) {
            // an address spray: keep only what is blocked right now
            byAddress.values().removeIf(e -> !e.blockedAt(now));
        }
    }
}
