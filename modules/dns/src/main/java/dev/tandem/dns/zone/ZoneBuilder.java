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

    /** A name that points at a pool. */
    public record PoolName(Name owner, String pool) {}

    /**
     * A zone's configured records, parsed once: a pool's health changing rebuilds the snapshot from
     * these, without parsing thousands of records again.
     */
    public record ParsedZone(DnsZone config, Name origin, List<Record> records, List<PoolName> poolNames) {}

    public static ParsedZone parse(DnsZone zone) throws IOException {
        Name origin = origin(zone.name());
        long ttl = zone.ttl().toSeconds();
        List<Record> records = new ArrayList<>();
        List<PoolName> poolNames = new ArrayList<>();
        for (DnsRecordSet set : zone.records()) {
            Name owner = RecordText.owner(set.name(), origin);
            if (set.pool() != null) poolNames.add(new PoolName(owner, set.pool()));
            long setTtl = set.ttl() == null ? ttl : set.ttl().toSeconds();
            for (Map.Entry<String, List<String>> byType : set.byType().entrySet()) {
                for (String text : byType.getValue()) {
                    records.add(RecordText.parse(owner, byType.getKey(), setTtl, text, origin));
                }
            }
        }
        return new ParsedZone(zone, origin, List.copyOf(records), List.copyOf(poolNames));
    }

    /**
     * @param poolAddresses the addresses each pool answers with now (see {@code PoolAnswers}); a pool
     *     not in the map answers with nothing
     */
    public static ZoneSnapshot build(DnsZone zone, long serial, Map<String, DnsPool> pools,
            Function<String, List<InetAddress>> poolAddresses) throws IOException {
        return build(parse(zone), serial, pools, poolAddresses);
    }

    public static ZoneSnapshot build(ParsedZone zone, long serial, Map<String, DnsPool> pools,
            Function<String, List<InetAddress>> poolAddresses) throws TextParseException {
        List<Record> records = new ArrayList<>(zone.records());
        for (PoolName name : zone.poolNames()) {
            DnsPool pool = pools.get(name.pool());
            if (pool == null) continue;
            long poolTtl = pool.ttl().toSeconds();
            for (InetAddress address : poolAddresses.apply(name.pool())) {
                records.add(address instanceof Inet4Address
                        ? new ARecord(name.owner(), DClass.IN, poolTtl, address)
                        : new AAAARecord(name.owner(), DClass.IN, poolTtl, address));
            }
        }
        SOARecord soa = soa(zone.config(), zone.origin(), serial, records);
        records.add(soa);
        Map<Name, Map<Integer, RRset>> nodes = ZoneSnapshot.index(records);
        // a pool's name exists even while the pool answers nothing (when_all_down: none): NODATA, not NXDOMAIN
        for (PoolName name : zone.poolNames()) nodes.putIfAbsent(name.owner(), new HashMap<>());
        return new ZoneSnapshot(zone.origin(), soa, nodes);
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
