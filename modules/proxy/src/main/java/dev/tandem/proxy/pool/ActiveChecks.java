package dev.tandem.proxy.pool;

import dev.tandem.cluster.ObservedState;
import dev.tandem.config.HealthCheck;
import dev.tandem.config.ProxyPool;
import dev.tandem.health.HealthProbe;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's HTTP checks of every pool member, each on a fresh connection. Verdicts go into the
 * member's {@link BackendState} (what this proxy acts on) and out as observed state
 * ({@code proxy.pool.POOL.MEMBER}), so the shell on any node can show every proxy's view.
 */
public final class ActiveChecks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ActiveChecks.class);
    public static final String KEY_PREFIX = "proxy.pool.";

    /** A running check; changing the address or the check restarts it. */
    private record Target(Backend backend, ProxyPool.Check check) {
        String key() {
            return ActiveChecks.key(backend.pool(), backend.name());
        }

        boolean sameAs(Target other) {
            return backend.state() == other.backend.state() && check.equals(other.check);
        }
    }

    private final ObservedState observed;
    private final ScheduledExecutorService scheduler;
    private final Map<String, Target> targets = new HashMap<>();
    private final Map<String, ScheduledFuture<?>> tasks = new HashMap<>();

    public ActiveChecks(ObservedState observed) {
        this.observed = observed;
        AtomicInteger ids = new AtomicInteger();
        this.scheduler = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "proxy-health-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public static String key(String pool, String member) {
        return KEY_PREFIX + pool + "." + member;
    }

    /** Checks exactly these pools' members from now on; unchanged checks keep running undisturbed. */
    public synchronized void reconcile(Collection<BackendPool> pools) {
        Map<String, Target> wanted = new HashMap<>();
        for (BackendPool pool : pools) {
            if (!pool.config().check().enabled()) continue;
            for (Backend b : pool.members()) wanted.put(key(b.pool(), b.name()), new Target(b, pool.config().check()));
        }
        Set<String> gone = new HashSet<>(targets.keySet());
        gone.removeAll(wanted.keySet());
        for (String key : gone) {
            tasks.remove(key).cancel(false);
            targets.remove(key).backend().state().forgetChecks(); // a check switched off must not leave a member down
            observed.put(key, null);
        }
        wanted.forEach((key, target) -> {
            Target running = targets.get(key);
            if (running != null && running.sameAs(target)) return;
            if (running != null) tasks.remove(key).cancel(false);
            targets.put(key, target);
            long interval = Math.max(100, target.check().interval().toMillis());
            long firstDelay = ThreadLocalRandom.current().nextLong(Math.min(interval, 500)); // nodes don't check in lockstep
            tasks.put(key, scheduler.scheduleWithFixedDelay(() -> probe(target), firstDelay, interval, TimeUnit.MILLISECONDS));
        });
    }

    private void probe(Target target) {
        try {
            Backend b = target.backend();
            ProxyPool.Check c = target.check();
            HealthCheck http = new HealthCheck(HealthCheck.Type.HTTP, b.address().getPort(), c.path(), c.expectStatus(),
                    c.interval(), c.timeout(), c.fall(), c.rise());
            String problem = HealthProbe.check(b.address().getAddress(), http);
            if (b.state().recordCheck(problem, c)) {
                LOG.info("pool {} member {} ({}): {}", b.pool(), b.name(), b.member().address(), b.state().checkVerdict());
                observed.put(target.key(), b.state().checkVerdict());
            }
        } catch (RuntimeException e) {
            LOG.warn("health check of {} failed unexpectedly", target.key(), e);
        }
    }

    @Override
    public synchronized void close() {
        scheduler.shutdownNow();
        tasks.clear();
        targets.clear();
    }
}
