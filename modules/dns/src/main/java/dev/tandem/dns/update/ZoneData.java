package dev.tandem.dns.update;

import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.zone.RecordText;
import dev.tandem.dns.zone.ZoneBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Type;

/**
 * A zone's configured records as a mutable set that RFC 2136 can work on, and back: records an update
 * did not touch keep the text they were written with, so a commit's diff shows only what changed.
 */
final class ZoneData {
    private final DnsZone zone;
    private final Name origin;
    private final Map<Name, Map<Integer, Set<Record>>> nodes = new LinkedHashMap<>();
    private final Map<Name, DnsRecordSet> original = new HashMap<>();
    private final Map<Record, String> text = new HashMap<>();
    private final Map<Name, Long> ttlChanges = new HashMap<>();

    ZoneData(DnsZone zone) throws IOException {
        this.zone = zone;
        this.origin = ZoneBuilder.origin(zone.name());
        for (DnsRecordSet set : zone.records()) {
            Name owner = RecordText.owner(set.name(), origin);
            original.put(owner, set);
            Map<Integer, Set<Record>> node = nodes.computeIfAbsent(owner, k -> new LinkedHashMap<>());
            long ttl = (set.ttl() == null ? zone.ttl() : set.ttl()).toSeconds();
            for (Map.Entry<String, List<String>> e : set.byType().entrySet()) {
                for (String value : e.getValue()) {
                    Record r = RecordText.parse(owner, e.getKey(), ttl, value, origin);
                    node.computeIfAbsent(r.getType(), k -> new LinkedHashSet<>()).add(r);
                    text.put(r, value);
                }
            }
        }
    }

    Name origin() {
        return origin;
    }

    boolean nameInUse(Name name) {
        Map<Integer, Set<Record>> node = nodes.get(name);
        return (node != null && node.values().stream().anyMatch(s -> !s.isEmpty()))
                || (original.containsKey(name) && original.get(name).pool() != null);
    }

    Set<Record> rrset(Name name, int type) {
        Map<Integer, Set<Record>> node = nodes.get(name);
        Set<Record> set = node == null ? null : node.get(type);
        return set == null ? Set.of() : set;
    }

    /** RFC 2136 3.4.2.2, minus the parts about SOA, which is ours to keep. */
    void add(Record r) {
        Map<Integer, Set<Record>> node = nodes.computeIfAbsent(r.getName(), k -> new LinkedHashMap<>());
        boolean hasCname = !node.getOrDefault(Type.CNAME, Set.of()).isEmpty();
        boolean hasOther = node.entrySet().stream().anyMatch(e -> e.getKey() != Type.CNAME && !e.getValue().isEmpty())
                || (original.containsKey(r.getName()) && original.get(r.getName()).pool() != null); // a pool's A/AAAA
        if (r.getType() == Type.CNAME && hasOther) return; // CNAME and other data: the add is ignored
        if (r.getType() != Type.CNAME && hasCname) return;
        if (r.getType() == Type.CNAME) node.remove(Type.CNAME); // a CNAME replaces the one there
        Set<Record> set = node.computeIfAbsent(r.getType(), k -> new LinkedHashSet<>());
        set.remove(r); // same data: the new TTL wins
        set.add(r);
        ttlChanges.put(r.getName(), r.getTTL());
    }

    void deleteRRset(Name name, int type) {
        if (name.equals(origin) && type == Type.NS) return; // the apex keeps its NS (RFC 2136 3.4.2.3)
        Map<Integer, Set<Record>> node = nodes.get(name);
        if (node != null) node.remove(type);
    }

    void deleteName(Name name) {
        Map<Integer, Set<Record>> node = nodes.get(name);
        if (node == null) return;
        if (name.equals(origin)) {
            node.keySet().removeIf(type -> type != Type.NS);
        } else {
            node.clear();
        }
    }

    void deleteRecord(Record r) {
        Map<Integer, Set<Record>> node = nodes.get(r.getName());
        if (node == null) return;
        Set<Record> set = node.get(r.getType());
        if (set == null) return;
        if (r.getName().equals(origin) && r.getType() == Type.NS && set.size() == 1 && set.contains(r)) return;
        set.removeIf(existing -> existing.equals(r));
    }

    /** The zone with these records; record sets the update emptied are gone, unless they hold a pool. */
    DnsZone toZone() {
        List<DnsRecordSet> sets = new ArrayList<>();
        for (Map.Entry<Name, Map<Integer, Set<Record>>> e : nodes.entrySet()) {
            Name owner = e.getKey();
            DnsRecordSet before = original.get(owner);
            Map<String, List<String>> byType = new LinkedHashMap<>();
            for (Map.Entry<Integer, Set<Record>> t : e.getValue().entrySet()) {
                if (t.getValue().isEmpty()) continue;
                List<String> values = new ArrayList<>();
                for (Record r : t.getValue()) values.add(text.getOrDefault(r, RecordText.format(r)));
                byType.put(Type.string(t.getKey()), values);
            }
            String pool = before == null ? null : before.pool();
            if (byType.isEmpty() && pool == null) continue;
            Duration ttl = before == null ? null : before.ttl();
            Long newTtl = ttlChanges.get(owner);
            if (newTtl != null) ttl = newTtl == zone.ttl().toSeconds() ? null : Duration.ofSeconds(newTtl);
            String name = before != null ? before.name() : relative(owner);
            DnsRecordSet set = DnsRecordSet.of(name, ttl, byType, pool);
            sets.add(before != null && before.equals(set) ? before : set);
        }
        return zone.withRecords(sets);
    }

    private String relative(Name owner) {
        if (owner.equals(origin)) return "@";
        return owner.canonicalize().relativize(origin).toString();
    }
}
