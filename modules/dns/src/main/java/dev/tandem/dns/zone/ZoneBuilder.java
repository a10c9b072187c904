package dev.tandem.dns.zone;

import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.NSRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.TextParseException;

/** Turns a zone's config, its serial and the current pool answers into a {@link ZoneSnapshot}. */
public final class ZoneBuilder {
    private ZoneBuilder() {}

    /**
     * @param poolAddresses the addresses each pool answers with now (see {@code PoolAnswers}); a pool
     *     not in the map answers with nothing
     */
    public static ZoneSnapshot build(DnsZone zone, long serial, Map<String, DnsPool> pools,
            Function<String, List<InetAddress>> poolAddresses) throws IOException {
        Name origin = origin(zone.name());
        long ttl = zone.ttl().toSeconds();
        List<Record> records = new ArrayList<>();
        List<Name> poolOwners = new ArrayList<>();
        for (DnsRecordSet set : zone.records()) {
            Name owner = RecordText.owner(set.name(), origin);
            if (set.pool() != null) poolOwners.add(owner);
            long setTtl = set.ttl() == null ? ttl : set.ttl().toSeconds();
            for (Map.Entry<String, List<String>> byType : set.byType().entrySet()) {
                for (String text : byType.getValue()) {
                    records.add(RecordText.parse(owner, byType.getKey(), setTtl, text, origin));
                }
            }
            if (set.pool() != null && pools.containsKey(set.pool())) {
                long poolTtl = pools.get(set.pool()).ttl().toSeconds();
                for (InetAddress address : poolAddresses.apply(set.pool())) {
                    records.add(address instanceof Inet4Address
                            ? new ARecord(owner, DClass.IN, poolTtl, address)
                            : new AAAARecord(owner, DClass.IN, poolTtl, address));
                }
            }
        }
        SOARecord soa = soa(zone, origin, serial, records);
        records.add(soa);
        Map<Name, Map<Integer, RRset>> nodes = ZoneSnapshot.index(records);
        // a pool's name exists even while the pool answers nothing (when_all_down: none): NODATA, not NXDOMAIN
        for (Name owner : poolOwners) nodes.putIfAbsent(owner, new HashMap<>());
        return new ZoneSnapshot(origin, soa, nodes);
    }

    public static Name origin(String zoneName) throws TextParseException {
        return Name.fromString(zoneName.endsWith(".") ? zoneName : zoneName + ".");
    }

    private static SOARecord soa(DnsZone zone, Name origin, long serial, List<Record> records) throws TextParseException {
        DnsZone.Soa soa = zone.soa();
        Name primary = soa.primary() != null
                ? Name.fromString(soa.primary(), origin)
                : records.stream()
                        .filter(r -> r instanceof NSRecord && r.getName().equals(origin))
                        .map(r -> ((NSRecord) r).getTarget())
                        .findFirst()
                        .orElse(Name.fromString("ns", origin));
        Name contact = Name.fromString(soa.contact(), origin);
        return new SOARecord(origin, DClass.IN, zone.ttl().toSeconds(), primary, contact, serial,
                soa.refresh().toSeconds(), soa.retry().toSeconds(), soa.expire().toSeconds(), soa.minimum().toSeconds());
    }
}
