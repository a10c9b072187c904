package dev.tandem.dns.health;

import dev.tandem.cluster.ObservedState;
import dev.tandem.config.DnsPool;
import dev.tandem.config.HealthCheck;
import dev.tandem.health.HealthProbe;
import dev.tandem.health.MemberHealth;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this node's checks of every pool member and publishes each member's state as observed state
 * ({@code dns.pool.POOL.MEMBER = up | down: why}), so every node can count the votes.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);
    public static final String KEY_PREFIX = "dns.pool.";

    /** What a running check is: changing any part restarts it from UNKNOWN. */
    private record Target(String pool, String member, String address, HealthCheck check) {
        String key() {
            return key(pool, member);
        }

        static String key(String pool, String member) {
            return KEY_PREFIX + pool + "." + member;
        }
    }

    private record Running(ScheduledFuture<?> task, MemberHealth health) {}

    private final ObservedState observed;
    private final ScheduledExecutorService scheduler;
    private final Map<Target, Running> running = new HashMap<>();

    public HealthChecker(ObservedState observed, int threads) {
        this.observed = observed;
        AtomicInteger ids = new AtomicInteger();
        this.scheduler = Executors.newScheduledThreadPool(threads, r -> {
            Thread t = new Thread(r, "dns-health-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public static String key(String pool, String member) {
        return Target.key(pool, member);
    }

    /** Checks exactly these pools' members from now on; unchanged checks keep running undisturbed. */
    public synchronized void reconcile(Iterable<DnsPool> pools) {
        Map<Target, Boolean> wanted = new HashMap<>();
        for (DnsPool pool : pools) {
            for (DnsPool.Member m : pool.members()) wanted.put(new Target(pool.name(), m.name(), m.address(), pool.check()), true);
        }
        running.entrySet().removeIf(e -> {
            if (wanted.containsKey(e.getKey())) return false;
            e.getValue().task().cancel(false);
            boolean replaced = wanted.keySet().stream().anyMatch(t -> t.key().equals(e.getKey().key()));
            if (!replaced) observed.put(e.getKey().key(), null);
            return true;
        });
        for (Target target : wanted.keySet()) {
            if (running.containsKey(target)) continue;
            InetAddress address;
            try {
                address = InetAddress.getByName(target.address());
            } catch (UnknownHostException e) {
                LOG.warn("pool {} member {}: bad address {}", target.pool(), target.member(), target.address());
                continue;
            }
            MemberHealth health = new MemberHealth();
            long interval = Math.max(100, target.check().interval().toMillis());
            long firstDelay = ThreadLocalRandom.current().nextLong(Math.min(interval, 500)); // nodes don't check in lockstep
            ScheduledFuture<?> task = scheduler.scheduleWithFixedDelay(() -> probe(target, address, health),
                    firstDelay, interval, TimeUnit.MILLISECONDS);
            running.put(target, new Running(task, health));
        }
    }

    private void probe(Target target, InetAddress address, MemberHealth health) {
        try {
            String problem = HealthProbe.check(address, target.check());
            if (health.record(problem, target.check().fall(), target.check().rise())) {
                LOG.info("pool {} member {} ({}): {}", target.pool(), target.member(), target.address(), health.published());
                observed.put(target.key(), health.published());
            }
        } catch (RuntimeException e) {
            LOG.warn("health check of {} failed unexpectedly", target.key(), e);
        }
    }

    @Override
    public synchronized void close() {
        scheduler.shutdownNow();
        running.clear();
    }
}
