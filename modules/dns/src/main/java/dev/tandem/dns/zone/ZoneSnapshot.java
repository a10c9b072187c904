package dev.tandem.dns.zone;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Type;

/**
 * One zone's data at one moment, never changed after it is built: queries read it without locks, and
 * a new config version or a pool change replaces it whole. Lookup follows RFC 1034 4.3.2 and RFC 4592
 * (wildcards); {@link Name} compares case-insensitively, so lookups are case-insensitive for free.
 */
public final class ZoneSnapshot {
    private static final int MAX_CNAME_CHAIN = 8;

    private final Name origin;
    private final long serial;
    private final SOARecord soa;
    private final SOARecord negativeSoa;
    private final Map<Name, Map<Integer, RRset>> nodes;
    /** Every owner name and every name between an owner and the apex (empty non-terminals). */
    private final Set<Name> existing;

    ZoneSnapshot(Name origin, SOARecord soa, Map<Name, Map<Integer, RRset>> nodes) {
        this.origin = origin;
        this.soa = soa;
        this.serial = soa.getSerial();
        this.negativeSoa = new SOARecord(origin, soa.getDClass(), Math.min(soa.getTTL(), soa.getMinimum()), soa.getHost(),
                soa.getAdmin(), serial, soa.getRefresh(), soa.getRetry(), soa.getExpire(), soa.getMinimum());
        this.nodes = nodes;
        Set<Name> names = new HashSet<>();
        for (Name owner : nodes.keySet()) {
            for (Name n = owner; n.subdomain(origin); n = parent(n)) {
                if (!names.add(n) || n.equals(origin)) break;
            }
        }
        names.add(origin);
        this.existing = names;
    }

    public Name origin() {
        return origin;
    }

    public long serial() {
        return serial;
    }

    public SOARecord soa() {
        return soa;
    }

    /** The SOA for the authority section of a negative answer: its TTL capped by MINIMUM (RFC 2308). */
    public SOARecord negativeSoa() {
        return negativeSoa;
    }

    public RRset rrset(Name name, int type) {
        Map<Integer, RRset> node = nodes.get(name);
        return node == null ? null : node.get(type);
    }

    /** Every record, SOA first: the body of an AXFR. */
    public List<Record> records() {
        List<Record> out = new ArrayList<>();
        out.add(soa);
        for (Map<Integer, RRset> node : nodes.values()) {
            for (RRset set : node.values()) {
                if (set.getType() != Type.SOA) out.addAll(set.rrs(false));
            }
        }
        return out;
    }

    public int recordCount() {
        int n = 0;
        for (Map<Integer, RRset> node : nodes.values()) for (RRset set : node.values()) n += set.size();
        return n;
    }

    /** Answers {@code qname}/{@code qtype}, which must be at or below the origin. */
    public Answer lookup(Name qname, int qtype) {
        Answer.Builder out = new Answer.Builder();
        Name name = qname;
        Set<Name> visited = null; // made only when a CNAME is followed: most lookups follow none
        for (int hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
            if (hops > 0) {
                if (visited == null) visited = new HashSet<>(List.of(qname));
                if (!visited.add(name)) return out.build(Answer.Kind.ANSWER); // a CNAME loop: each record once
            }
            Name cut = delegation(name, qtype);
            if (cut != null) {
                referral(cut, out);
                return out.build(hops > 0 ? Answer.Kind.ANSWER : Answer.Kind.REFERRAL);
            }
            Map<Integer, RRset> node = nodes.get(name);
            Name owner = name;
            if (node == null && !existing.contains(name)) {
                Name wildcard = wildcardFor(name);
                node = wildcard == null ? null : nodes.get(wildcard);
                if (node == null) {
                    out.authority(negativeSoa());
                    return out.build(hops > 0 ? Answer.Kind.ANSWER_THEN_NXDOMAIN : Answer.Kind.NXDOMAIN);
                }
            }
            if (node == null) {
                out.authority(negativeSoa());
                return out.build(hops > 0 ? Answer.Kind.ANSWER : Answer.Kind.NODATA);
            }
            if (qtype == Type.ANY && !node.isEmpty()) {
                for (RRset set : node.values()) out.answer(set, owner);
                return out.build(Answer.Kind.ANSWER);
            }
            RRset exact = node.get(qtype);
            if (exact != null) {
                out.answer(exact, owner);
                additional(exact, out);
                return out.build(Answer.Kind.ANSWER);
            }
            RRset cname = node.get(Type.CNAME);
            if (cname == null) {
                out.authority(negativeSoa());
                return out.build(hops > 0 ? Answer.Kind.ANSWER : Answer.Kind.NODATA);
            }
            out.answer(cname, owner);
            name = ((org.xbill.DNS.CNAMERecord) cname.first()).getTarget();
            if (!name.subdomain(origin)) return out.build(Answer.Kind.ANSWER); // the resolver follows it elsewhere
        }
        return out.build(Answer.Kind.ANSWER); // a loop or a long chain: what we have so far
    }

    /**
     * The highest zone cut strictly below the apex at or above {@code name}, or null. DS at a cut
     * belongs to the parent, this zone (RFC 4035 3.1.4.1), so it is not referred.
     */
    private Name delegation(Name name, int qtype) {
        int labels = name.labels();
        for (int keep = origin.labels() + 1; keep <= labels; keep++) {
            if (keep == labels && qtype == Type.DS) return null;
            Name candidate = keep == labels ? name : new Name(name, labels - keep);
            Map<Integer, RRset> node = nodes.get(candidate);
            if (node != null && node.containsKey(Type.NS)) return candidate;
            if (node == null && !existing.contains(candidate)) return null;
        }
        return null;
    }

    /** {@code *.closest-encloser} if it exists (RFC 4592 3.3.1), else null. */
    private Name wildcardFor(Name name) {
        Name encloser = parent(name);
        while (!existing.contains(encloser)) encloser = parent(encloser);
        try {
            Name wildcard = Name.concatenate(Name.fromConstantString("*"), encloser);
            return nodes.containsKey(wildcard) ? wildcard : null;
        } catch (org.xbill.DNS.NameTooLongException e) {
            return null;
        }
    }

    private void referral(Name cut, Answer.Builder out) {
        RRset ns = rrset(cut, Type.NS);
        out.authority(ns);
        additional(ns, out);
    }

    /** Addresses of in-zone targets of NS, MX and SRV records, for the additional section. */
    private void additional(RRset set, Answer.Builder out) {
        int type = set.getType();
        if (type != Type.NS && type != Type.MX && type != Type.SRV) return;
        for (Record r : set.rrs(false)) {
            Name target = r.getAdditionalName();
            if (target == null || !target.subdomain(origin)) continue;
            Map<Integer, RRset> node = nodes.get(target);
            if (node == null) continue;
            RRset a = node.get(Type.A);
            RRset aaaa = node.get(Type.AAAA);
            if (a != null) out.additional(a);
            if (aaaa != null) out.additional(aaaa);
        }
    }

    private static Name parent(Name name) {
        return new Name(name, 1);
    }

    Collection<Name> ownerNames() {
        return nodes.keySet();
    }

    /** Builds the node map, keeping RRsets whole. */
    static Map<Name, Map<Integer, RRset>> index(List<Record> records) {
        Map<Name, Map<Integer, RRset>> nodes = new HashMap<>();
        for (Record r : records) {
            nodes.computeIfAbsent(r.getName(), k -> new HashMap<>())
                    .computeIfAbsent(r.getType(), k -> new RRset())
                    .addRR(r);
        }
        return nodes;
    }
}
