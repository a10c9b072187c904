package dev.tandem.proxy;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.NodeObservations;
import dev.tandem.component.Component;
import dev.tandem.component.ComponentContext;
import dev.tandem.component.ShellCommand;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.Node;
import dev.tandem.config.ProxyConfig;
import dev.tandem.config.Site;
import dev.tandem.proxy.http.ProxyServer;
import dev.tandem.proxy.http.ProxyState;
import dev.tandem.proxy.pool.ActiveChecks;
import dev.tandem.proxy.pool.Backend;
import dev.tandem.proxy.pool.BackendPool;
import dev.tandem.proxy.pool.Pools;
import dev.tandem.proxy.route.RouteTable;
import dev.tandem.proxy.shell.ProxyShellCommands;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reverse proxy as a reconciler: each config version becomes a new {@link ProxyState} (routes and
 * pools), swapped in whole, while the listeners and open connections stay. Runs on services nodes
 * that have at least one route; a witness never proxies.
 */
public final class ProxyComponent implements Component {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyComponent.class);
    /** Observed state a node publishes for each drained member: {@code COUNT@VERSION}, requests still in flight. */
    public static final String IN_FLIGHT_PREFIX = "proxy.inflight.";

    private final Pools pools = new Pools();
    private volatile ProxyState state = ProxyState.EMPTY;
    private ComponentContext context;
    private ActiveChecks checks;
    private ProxyServer server;
    private ScheduledExecutorService drainReporter;
    private final Map<String, String> publishedInFlight = new HashMap<>();

    @Override
    public String name() {
        return "proxy";
    }

    @Override
    public void start(ComponentContext context) {
        this.context = context;
        checks = new ActiveChecks(context.cluster().observed());
        drainReporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "proxy-drain-report");
            t.setDaemon(true);
            return t;
        });
        drainReporter.scheduleWithFixedDelay(this::reportDrains, 500, 500, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void apply(ConfigVersion version) {
        ClusterConfig config = version.config();
        Node self = context.self();
        ProxyConfig proxy = config.proxy();
        if (self.isWitness() || proxy.routes().isEmpty()) {
            if (server != null) LOG.info("proxy stops: {}", self.isWitness() ? "this node is a witness" : "no routes");
            stopServing();
            return;
        }
        List<String> siteOrder = Pools.siteOrder(self.site(), proxy.sitePreference(), config.sites().stream().map(Site::name).toList());
        // a member tied to a volume serves only from the site of that volume's primary
        Map<String, BackendPool> built = pools.build(proxy, siteOrder, m -> config.followsPrimary(m.volume(), m.site()));
        state = new ProxyState(new RouteTable(proxy.routes(), built), built, proxy, version.version());
        checks.reconcile(built.values());
        if (server == null) server = new ProxyServer(() -> state, context.local().dataDir().resolve("proxy-access.log"));
        try {
            server.apply(new ProxyServer.Listeners(self.effectivePublicAddress(), proxy.httpPort(), proxy.httpsPort(), proxy.certificates(),
                    proxy.limits(), proxy.timeouts()), proxy.accessLog());
        } catch (Exception e) {
            LOG.error("proxy cannot apply its listeners: {}; it will try again with the next config version", e.getMessage());
        }
    }

    private void stopServing() {
        state = ProxyState.EMPTY;
        checks.reconcile(List.of());
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Lets every node's {@code proxy drain} see when a drained member has no request left here. */
    private void reportDrains() {
        try {
            Map<String, String> now = new HashMap<>();
            ProxyState current = state;
            for (BackendPool pool : current.pools().values()) {
                for (Backend b : pool.members()) {
                    if (b.member().drained()) now.put(IN_FLIGHT_PREFIX + b.pool() + "." + b.name(), b.state().inFlight() + "@" + current.version());
                }
            }
            synchronized (publishedInFlight) {
                for (String key : publishedInFlight.keySet()) if (!now.containsKey(key)) context.cluster().observed().put(key, null);
                now.forEach((key, value) -> {
                    if (!value.equals(publishedInFlight.get(key))) context.cluster().observed().put(key, value);
                });
                publishedInFlight.clear();
                publishedInFlight.putAll(now);
            }
        } catch (RuntimeException e) {
            LOG.warn("drain report failed", e);
        }
    }

    /** What this node serves now: routes, pools with their members' state, the version they came from. */
    public ProxyState state() {
        return state;
    }

    public synchronized List<String> listeners() {
        return server == null ? List.of() : server.describeListeners();
    }

    public ComponentContext context() {
        return context;
    }

    public Map<String, NodeObservations> observations() {
        return context.cluster().observed().all();
    }

    /** Client connections open on this node's listeners now. */
    public synchronized int openConnections() {
        return server == null ? 0 : server.openConnections();
    }

    @Override
    public List<ShellCommand> shellCommands() {
        return ProxyShellCommands.of(this);
    }

    @Override
    public synchronized void stop() {
        if (drainReporter != null) drainReporter.shutdownNow();
        if (checks != null) checks.close();
        if (server != null) server.close();
        server = null;
    }
}
