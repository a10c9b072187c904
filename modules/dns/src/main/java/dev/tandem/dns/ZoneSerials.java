package dev.tandem.dns;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.store.NodeStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A zone's SOA serial is the config version in which its content last changed: the same on every
 * node (all apply the same versions), rising with every change to the zone and only then. A node
 * that starts finds it by walking its version history back to where the content differs.
 */
final class ZoneSerials {
    /** How far back a starting node looks; beyond that the oldest identical version seen is used. */
    private static final int MAX_WALK = 1000;

    private record Known(Object content, long serial) {}

    private final NodeStore store;
    private final Map<String, Known> known = new HashMap<>();

    ZoneSerials(NodeStore store) {
        this.store = store;
    }

    synchronized long serial(DnsZone zone, ClusterConfig config, long version) {
        Object content = content(zone.name(), config);
        Known k = known.get(zone.name());
        if (k != null && k.content.equals(content)) return k.serial;
        long serial = k == null ? firstWithContent(zone.name(), content, version) : Math.max(1, version);
        known.put(zone.name(), new Known(content, serial));
        return serial;
    }

    private long firstWithContent(String zone, Object content, long version) {
        long serial = version;
        for (long v = version - 1; v >= 1 && version - v <= MAX_WALK; v--) {
            Optional<ConfigVersion> older = store.version(v);
            if (older.isEmpty() || !content.equals(content(zone, older.get().config()))) break;
            serial = v;
        }
        return Math.max(1, serial);
    }

    /** What a zone's transfer form depends on: its own config and the pools its names point at. */
    static Object content(String zoneName, ClusterConfig config) {
        Optional<DnsZone> zone = config.dns().zone(zoneName);
        if (zone.isEmpty()) return List.of();
        List<Optional<DnsPool>> pools = zone.get().records().stream()
                .map(DnsRecordSet::pool)
                .filter(Objects::nonNull)
                .distinct()
                .map(p -> config.dns().pool(p))
                .toList();
        return List.of(zone.get(), pools);
    }
}
