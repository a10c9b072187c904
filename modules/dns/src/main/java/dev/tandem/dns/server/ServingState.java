package dev.tandem.dns.server;

import java.util.Map;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/**
 * Everything a query is answered from, replaced whole: the zones by origin and the TSIG keys by name.
 * A query reads one instance from start to finish, so it never sees half of a change.
 */
public record ServingState(Map<Name, ServedZone> zones, Map<Name, TSIG> keys) {
    public static final ServingState EMPTY = new ServingState(Map.of(), Map.of());

    public ServingState {
        zones = Map.copyOf(zones);
        keys = Map.copyOf(keys);
    }

    /** The zone {@code name} is in: the one with the longest origin that is a suffix of it. */
    public ServedZone zoneFor(Name name) {
        if (zones.isEmpty()) return null;
        for (int strip = 0; strip < name.labels(); strip++) {
            ServedZone zone = zones.get(strip == 0 ? name : new Name(name, strip));
            if (zone != null) return zone;
        }
        return null;
    }
}
