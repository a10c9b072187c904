package dev.tandem.dns.server;

import dev.tandem.config.DnsZone;
import dev.tandem.dns.zone.ZoneSnapshot;

/** A zone as served now: the answers, and the config that says who may transfer or update it. */
public record ServedZone(ZoneSnapshot snapshot, DnsZone config, AddressList transferFrom) {
    public ServedZone(ZoneSnapshot snapshot, DnsZone config) {
        this(snapshot, config, AddressList.parse(config.transfer().allow()));
    }
}
