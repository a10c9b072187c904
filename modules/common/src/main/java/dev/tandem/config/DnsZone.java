package dev.tandem.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One authoritative zone. Record names and names inside record data are relative to the zone unless
 * they end in a dot, as in a zone file; {@code @} is the apex.
 *
 * @param ttl default TTL of records that do not give their own
 * @param alsoNotify secondaries told of every change, as {@code address} or {@code address:port}
 * @param transfer who may pull the zone by AXFR/IXFR
 * @param updateKeys TSIG keys allowed to change the zone by RFC 2136 UPDATE (none: updates are refused)
 */
public record DnsZone(
        @ConfigName(dotted = true) String name,
        Duration ttl,
        Soa soa,
        Transfer transfer,
        List<String> alsoNotify,
        List<String> updateKeys,
        List<DnsRecordSet> records) {

    public static final Duration DEFAULT_TTL = Duration.ofHours(1);

    public DnsZone {
        ttl = ttl == null ? DEFAULT_TTL : ttl;
        soa = soa == null ? Soa.DEFAULT : soa;
        transfer = transfer == null ? Transfer.NONE : transfer;
        alsoNotify = alsoNotify == null ? List.of() : List.copyOf(alsoNotify);
        updateKeys = updateKeys == null ? List.of() : List.copyOf(updateKeys);
        records = records == null ? List.of() : List.copyOf(records);
    }

    public Optional<DnsRecordSet> recordSet(String owner) {
        return records.stream().filter(r -> r.name().equals(owner)).findFirst();
    }

    public DnsZone withRecords(List<DnsRecordSet> next) {
        return new DnsZone(name, ttl, soa, transfer, alsoNotify, updateKeys, next);
    }

    /**
     * The SOA's fixed fields; the serial is not configured: it is the config version in which the
     * zone last changed, the same on every node.
     *
     * @param primary MNAME (default: the first NS at the apex)
     * @param contact RNAME, the mailbox with its '@' written as a dot (default: hostmaster)
     */
    public record Soa(String primary, String contact, Duration refresh, Duration retry, Duration expire, Duration minimum) {
        public static final Soa DEFAULT = new Soa(null, null, null, null, null, null);

        public Soa {
            contact = contact == null ? "hostmaster" : contact;
            refresh = refresh == null ? Duration.ofHours(1) : refresh;
            retry = retry == null ? Duration.ofMinutes(10) : retry;
            expire = expire == null ? Duration.ofDays(14) : expire;
            minimum = minimum == null ? Duration.ofMinutes(5) : minimum;
        }
    }

    /**
     * Zone transfer access: a request is served if it comes from an address in {@code allow} (CIDR or
     * single address) or is signed with one of {@code keys}; with both empty, transfers are refused.
     */
    public record Transfer(List<String> allow, List<String> keys) {
        public static final Transfer NONE = new Transfer(null, null);

        public Transfer {
            allow = allow == null ? List.of() : List.copyOf(allow);
            keys = keys == null ? List.of() : List.copyOf(keys);
        }
    }
}
