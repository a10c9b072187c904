package dev.tandem.cluster.node;

import dev.tandem.cluster.NodeObservations;
import dev.tandem.cluster.ObservedState;
import dev.tandem.config.ConfigCodec;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Observed state over the control plane. Each node multicasts its whole (small) map on every change,
 * on every view change (so newcomers learn it at once) and every few seconds; the newest message
 * from a node replaces what was known of it. Nodes outside the current view read as stale.
 */
final class ObservedStateExchange implements ObservedState {
    private static final Logger LOG = LoggerFactory.getLogger(ObservedStateExchange.class);

    /** The wire form of one node's observations. */
    record Announcement(String node, Instant publishedAt, Map<String, String> values) {}

    private final String self;
    private final Consumer<byte[]> multicast;
    private final Map<String, String> mine = new TreeMap<>();
    private final Map<String, NodeObservations> known = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile Set<String> inView = Set.of();

    ObservedStateExchange(String self, Consumer<byte[]> multicast) {
        this.self = self;
        this.multicast = multicast;
    }

    @Override
    public void put(String key, String value) {
        synchronized (mine) {
            if (value == null ? mine.remove(key) == null : value.equals(mine.put(key, value))) return;
        }
        publish();
    }

    /** Sends this node's whole map to everyone in the view. */
    void publish() {
        Announcement announcement;
        synchronized (mine) {
            announcement = new Announcement(self, Instant.now(), Map.copyOf(mine));
        }
        remember(announcement);
        multicast.accept(ConfigCodec.toJson(announcement).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    void received(byte[] payload) {
        try {
            Announcement announcement = ConfigCodec.json().readValue(payload, Announcement.class);
            if (!announcement.node().equals(self)) remember(announcement);
        } catch (Exception e) {
            LOG.warn("ignored an unreadable observation message: {}", e.toString());
        }
    }

    private void remember(Announcement a) {
        known.put(a.node(), new NodeObservations(a.node(), a.values(), a.publishedAt(), false));
        notifyListeners();
    }

    /** One listener's failure must not keep the others from hearing of the change. */
    private void notifyListeners() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("an observed-state listener failed", e);
            }
        }
    }

    void viewChanged(Set<String> members) {
        inView = Set.copyOf(members);
        publish();
    }

    @Override
    public Map<String, NodeObservations> all() {
        Map<String, NodeObservations> result = new TreeMap<>();
        known.forEach((node, o) -> result.put(node, inView.contains(node) || node.equals(self)
                ? o
                : new NodeObservations(node, o.values(), o.publishedAt(), true)));
        return result;
    }

    @Override
    public void addListener(Runnable onChange) {
        listeners.add(onChange);
    }
}
