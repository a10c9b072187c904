package dev.tandem.proxy.pool;

import dev.tandem.config.ProxyPool;
import dev.tandem.health.MemberHealth;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this proxy node knows about one member at one address: requests in flight, the active check's
 * verdict and the passive ejection. It outlives config versions that keep the member at the same
 * address, so a change elsewhere in the config loses no count and no health.
 */
public final class BackendState {
    private static final Logger LOG = LoggerFactory.getLogger(BackendState.class);

    private final String label;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final MemberHealth active = new MemberHealth();
    private volatile boolean activeDown;
    private volatile long ejectedUntilNanos;
    private volatile String ejectedBecause;
    private volatile Instant lastCheck;
    private volatile String lastCheckResult;

    public BackendState(String label) {
        this.label = label;
    }

    public void acquire() {
        inFlight.incrementAndGet();
    }

    public void release() {
        inFlight.decrementAndGet();
        served.incrementAndGet();
    }

    public int inFlight() {
        return inFlight.get();
    }

    public long served() {
        return served.get();
    }

    /** Records an active check; returns true if the verdict changed. */
    public boolean recordCheck(String problem, ProxyPool.Check check) {
        lastCheck = Instant.now();
        lastCheckResult = problem == null ? "ok" : problem;
        boolean changed = active.record(problem, check.fall(), check.rise());
        activeDown = active.state() == MemberHealth.State.DOWN;
        return changed;
    }

    public void forgetChecks() {
        active.reset();
        activeDown = false;
        lastCheck = null;
        lastCheckResult = null;
    }

    /** A request reached the member and got a reply below 500. */
    public void passiveSuccess() {
        if (consecutiveFailures.get() != 0) consecutiveFailures.set(0);
    }

    /** A connection failed, or the member answered 5xx. Enough in a row eject it for a while. */
    public void passiveFailure(String what, ProxyPool.Passive passive) {
        if (passive.failures() <= 0) return;
        if (consecutiveFailures.incrementAndGet() >= passive.failures()) {
            consecutiveFailures.set(0);
            ejectedBecause = passive.failures() + " failures in a row, the last: " + what;
            ejectedUntilNanos = System.nanoTime() + passive.eject().toNanos();
            LOG.warn("{} ejected for {}: {}", label, passive.eject(), ejectedBecause);
        }
    }

    public boolean isActiveDown() {
        return activeDown;
    }

    public boolean isEjected() {
        long until = ejectedUntilNanos;
        return until != 0 && System.nanoTime() - until < 0;
    }

    /** The active check's verdict as other nodes see it: {@code up}, {@code down: why}, or null before the first check. */
    public String checkVerdict() {
        return active.published();
    }

    /** The verdict in a few words: {@code up}, {@code down: why}, {@code ejected: why}, {@code unknown}. */
    public String describe() {
        if (isEjected()) return "ejected: " + ejectedBecause;
        String published = active.published();
        return published == null ? "unknown (checks pending)" : published;
    }

    public Instant lastCheck() {
        return lastCheck;
    }

    public String lastCheckResult() {
        return lastCheckResult;
    }
}
