package dev.tandem.dns;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.DnsConfig;
import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.health.HealthChecker;
import dev.tandem.dns.health.PoolAnswers;
import dev.tandem.dns.server.DnsServer;
import dev.tandem.dns.server.QueryHandler;
import dev.tandem.dns.server.ServedZone;
import dev.tandem.dns.server.ServingState;
import dev.tandem.dns.shell.DnsShellCommands;
import dev.tandem.dns.update.DynamicUpdates;
import dev.tandem.dns.xfr.Notifier;
import dev.tandem.dns.xfr.ZoneTransfers;
import dev.tandem.dns.zone.ZoneBuilder;
import dev.tandem.dns.zone.ZoneBuilder.ParsedZone;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/**
 * The authoritative DNS server as a reconciler: each config version and each change in the pools'
 * health becomes a new {@link ServingState}, swapped in whole; queries only ever read it.
 */
public final class DnsComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(DnsComponent.class);
    /** Blocking workers, a few per core: while one waits in a system call, another answers. */
    private static final int UDP_WORKERS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());

    private volatile ServingState state = ServingState.EMPTY;
    private volatile ClusterConfig config;
    private volatile Map<String, List<InetAddress>> poolAnswers = Map.of();
    private final Map<String, ZoneSnapshot> transferForms = new HashMap<>();
    private Map<String, ParsedZone> parsed = Map.of();
    private Map<Name, TSIG> keys = Map.of();
    private ComponentContext context;
    private ZoneSerials serials;
    private HealthChecker health;
    private Notifier notifier;
    private DynamicUpdates updates;
    private QueryHandler handler;
    private DnsServer server;
    private ExecutorService poolWatcher;
    private final AtomicBoolean poolCheckPending = new AtomicBoolean();

    @Override
    public String name() {
        return "dns";
    }

    @Override
    public void start(ComponentContext context) {
        this.context = context;
        serials = new ZoneSerials(context.store());
        health = new HealthChecker(context.cluster().observed(), 2);
        notifier = new Notifier();
        updates = new DynamicUpdates(context.cluster());
        handler = new QueryHandler(() -> state, new ZoneTransfers(new TransferForms()), updates);
        poolWatcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dns-pools");
            t.setDaemon(true);
            return t;
        });
        context.cluster().observed().addListener(() -> {
            // called on the cluster's thread, also after this component stopped: hand off, never throw
            if (!poolWatcher.isShutdown() && poolCheckPending.compareAndSet(false, true)) {
                try {
                    poolWatcher.execute(this::onHealthChange);
                } catch (RejectedExecutionException e) {
                    poolCheckPending.set(false);
                }
            }
        });
    }

    @Override
    public void apply(ConfigVersion version) {
        ClusterConfig next = version.config();
        DnsConfig dns = next.dns();
        health.reconcile(dns.pools());
        Map<String, Long> before = servedSerials();
        synchronized (this) {
            config = next;
            poolAnswers = computePoolAnswers(next);
            Map<String, DnsPool> pools = pools(next);
            Map<String, ParsedZone> nextParsed = new HashMap<>();
            for (DnsZone zone : dns.zones()) {
                try {
                    ParsedZone known = parsed.get(zone.name());
                    ParsedZone current = known != null && known.config().equals(zone) ? known : ZoneBuilder.parse(zone);
                    long serial = serials.serial(zone, next, version.version());
                    ZoneSnapshot form = transferForms.get(zone.name());
                    if (form == null || form.serial() != serial) transferForms.put(zone.name(), transferForm(current, serial, pools));
                    nextParsed.put(zone.name(), current);
                } catch (Exception e) {
                    LOG.error("zone {} could not be built; it is not served", zone.name(), e);
                }
            }
            parsed = nextParsed;
            transferForms.keySet().retainAll(parsed.keySet());
            keys = keys(dns);
            rebuild();
        }
        bind(next);
        for (ServedZone zone : state.zones().values()) {
            Long old = before.get(zone.config().name());
            if (old == null || old != zone.snapshot().serial()) {
                for (String target : zone.config().alsoNotify()) notifier.notify(listenAddress().getAddress(), target, zone.snapshot().soa());
            }
        }
    }

    private Map<String, Long> servedSerials() {
        Map<String, Long> out = new HashMap<>();
        state.zones().values().forEach(z -> out.put(z.config().name(), z.snapshot().serial()));
        return out;
    }

    private void onHealthChange() {
        poolCheckPending.set(false);
        synchronized (this) {
            if (config == null) return;
            Map<String, List<InetAddress>> next = computePoolAnswers(config);
            if (next.equals(poolAnswers)) return;
            next.forEach((pool, addresses) -> {
                if (!addresses.equals(poolAnswers.get(pool))) LOG.info("pool {} now answers {}", pool, addresses);
            });
            poolAnswers = next;
            rebuild();
        }
    }

    private Map<String, List<InetAddress>> computePoolAnswers(ClusterConfig config) {
        var observations = context.cluster().observed().all();
        Map<String, List<InetAddress>> out = new HashMap<>();
        for (DnsPool pool : pools(config).values()) out.put(pool.name(), PoolAnswers.answer(pool, PoolAnswers.views(pool, observations)));
        return out;
    }

    /**
     * Builds the serving state from the parsed zones, their serials and the pool answers, and swaps it
     * in. No record text is parsed here: this runs on every change in a pool's health.
     */
    private void rebuild() {
        Map<String, DnsPool> pools = pools(config);
        Map<Name, ServedZone> zones = new HashMap<>();
        for (ParsedZone zone : parsed.values()) {
            try {
                ZoneSnapshot snapshot = ZoneBuilder.build(zone, transferForms.get(zone.config().name()).serial(), pools,
                        pool -> poolAnswers.getOrDefault(pool, List.of()));
                zones.put(snapshot.origin(), new ServedZone(snapshot, zone.config()));
            } catch (Exception e) {
                LOG.error("zone {} could not be built; it is not served", zone.config().name(), e);
            }
        }
        state = new ServingState(zones, keys);
    }

    private static Map<Name, TSIG> keys(DnsConfig dns) {
        Map<Name, TSIG> keys = new HashMap<>();
        for (DnsConfig.TsigKey key : dns.tsigKeys()) {
            try {
                keys.put(Name.fromString(key.name() + "."), DnsConfigRule.tsig(key));
            } catch (Exception e) {
                LOG.error("TSIG key {} could not be loaded", key.name(), e);
            }
        }
        return keys;
    }

    private static Map<String, DnsPool> pools(ClusterConfig config) {
        Map<String, DnsPool> pools = new HashMap<>();
        for (DnsPool p : config.dns().pools()) {
            // a member tied to a volume answers only from the site of that volume's primary
            List<DnsPool.Member> following = p.members().stream()
                    .filter(m -> config.followsPrimary(m.volume(), m.site())).toList();
            pools.put(p.name(), new DnsPool(p.name(), p.ttl(), following, p.check(), p.whenAllDown()));
        }
        return pools;
    }

    private static ZoneSnapshot transferForm(ParsedZone zone, long serial, Map<String, DnsPool> pools) throws IOException {
        return ZoneBuilder.build(zone, serial, pools, pool -> PoolAnswers.preferredTier(pools.get(pool)));
    }

    private InetSocketAddress listenAddress() {
        return new InetSocketAddress(context.self().effectivePublicAddress(), config.dns().port());
    }

    /** Listens on this node's public address and the configured port; moves if either changed. */
    private void bind(ClusterConfig config) {
        InetSocketAddress wanted = listenAddress();
        if (server != null && server.address().equals(wanted)) return;
        if (server != null) {
            server.close();
            server = null;
        }
        try {
            server = new DnsServer(wanted, UDP_WORKERS, handler);
            LOG.info("DNS listening on {} (UDP and TCP), {} zone(s)", wanted, config.dns().zones().size());
        } catch (Exception e) {
            LOG.error("DNS cannot listen on {}: {}; it will try again with the next config version", wanted, e.toString());
        }
    }

    /** For the shell: what is served now. */
    public ServingState state() {
        return state;
    }

    public Optional<ClusterConfig> config() {
        return Optional.ofNullable(config);
    }

    public Map<String, dev.tandem.cluster.NodeObservations> observations() {
        return context.cluster().observed().all();
    }

    public Optional<InetSocketAddress> listening() {
        DnsServer s = server;
        return s == null ? Optional.empty() : Optional.of(s.address());
    }

    @Override
    public List<ShellCommand> shellCommands() {
        return DnsShellCommands.of(this);
    }

    @Override
    public void stop() {
        if (server != null) server.close();
        if (health != null) health.close();
        if (notifier != null) notifier.close();
        if (updates != null) updates.close();
        if (poolWatcher != null) poolWatcher.shutdownNow();
    }

    /** Zone transfers carry the configured form, now or at an older serial still in the version history. */
    private final class TransferForms implements ZoneTransfers.Source {
        @Override
        public ZoneSnapshot current(ServedZone zone) {
            synchronized (DnsComponent.this) {
                ZoneSnapshot form = transferForms.get(zone.config().name());
                return form != null ? form : zone.snapshot();
            }
        }

        @Override
        public Optional<ZoneSnapshot> at(ServedZone zone, long serial) {
            Optional<ClusterConfig> then = context.store().version(serial).map(ConfigVersion::config);
            Optional<DnsZone> old = then.flatMap(c -> c.dns().zone(zone.config().name()));
            if (old.isEmpty()) return Optional.empty();
            try {
                return Optional.of(transferForm(ZoneBuilder.parse(old.get()), serial, pools(then.get())));
            } catch (IOException e) {
                LOG.warn("zone {} at serial {} does not build from the history; sending the whole zone", zone.config().name(), serial, e);
                return Optional.empty();
            }
        }
    }
}
