package dev.tandem.dns;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.DnsConfig;
import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsRecordSet;
import dev.tandem.config.DnsZone;
import dev.tandem.config.HealthCheck;
import dev.tandem.config.Site;
import dev.tandem.dns.server.AddressList;
import dev.tandem.dns.xfr.Notifier;
import dev.tandem.dns.zone.RecordText;
import dev.tandem.dns.zone.ZoneBuilder;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;

/** The {@code dns} section's own checks: every record parses, every reference resolves. */
public final class DnsConfigRule implements ConfigRule {
    private static final Pattern KEY_NAME = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?");
    private static final Pattern LITERAL_ADDRESS = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*");
    private static final Set<String> ALGORITHMS = Set.of("hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha1");

    @Override
    public void check(ClusterConfig config, Errors errors) {
        DnsConfig dns = config.dns();
        if (dns.port() < 1 || dns.port() > 65535) errors.add("dns.port", dns.port() + " is not a port (1-65535)");
        Set<String> keys = checkKeys(dns.tsigKeys(), errors);
        Set<String> pools = checkPools(dns.pools(), config, errors);
        Set<String> zones = new HashSet<>();
        for (int i = 0; i < dns.zones().size(); i++) {
            DnsZone zone = dns.zones().get(i);
            String path = "dns.zones[" + i + "]";
            if (zone == null || zone.name() == null) {
                errors.add(path + ".name", "missing");
                continue;
            }
            if (!zones.add(zone.name())) errors.add(path + ".name", "duplicate zone \"" + zone.name() + "\"");
            checkZone(zone, path, keys, pools, errors);
        }
    }

    private static Set<String> checkKeys(List<DnsConfig.TsigKey> keys, Errors errors) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < keys.size(); i++) {
            DnsConfig.TsigKey key = keys.get(i);
            String path = "dns.tsig_keys[" + i + "]";
            if (key.name() == null || !KEY_NAME.matcher(key.name()).matches()) {
                errors.add(path + ".name", key.name() == null ? "missing" : "\"" + key.name() + "\" is not a valid key name (lower-case letters, digits, '-' and '.')");
            } else if (!names.add(key.name())) {
                errors.add(path + ".name", "duplicate key \"" + key.name() + "\"");
            }
            if (!ALGORITHMS.contains(key.algorithm())) {
                errors.add(path + ".algorithm", "\"" + key.algorithm() + "\" is not one of " + String.join(", ", ALGORITHMS.stream().sorted().toList()));
            }
            if (key.secret() == null) {
                errors.add(path + ".secret", "missing (base64, e.g. from `tsig-keygen -a hmac-sha256 NAME`)");
            } else {
                try {
                    if (Base64.getDecoder().decode(key.secret()).length < 16) errors.add(path + ".secret", "too short: at least 16 bytes (128 bits)");
                } catch (IllegalArgumentException e) {
                    errors.add(path + ".secret", "not base64");
                }
            }
        }
        return names;
    }

    private static Set<String> checkPools(List<DnsPool> pools, ClusterConfig config, Errors errors) {
        Set<String> names = new HashSet<>();
        Set<String> sites = new HashSet<>();
        for (Site s : config.sites()) sites.add(s.name());
        for (int i = 0; i < pools.size(); i++) {
            DnsPool pool = pools.get(i);
            String path = "dns.pools[" + i + "]";
            if (pool.name() != null && !names.add(pool.name())) errors.add(path + ".name", "duplicate pool \"" + pool.name() + "\"");
            if (pool.members().isEmpty()) errors.add(path + ".members", "a pool needs at least one member");
            Set<String> members = new HashSet<>();
            for (int m = 0; m < pool.members().size(); m++) {
                DnsPool.Member member = pool.members().get(m);
                String at = path + ".members[" + m + "]";
                if (member.name() == null) errors.add(at + ".name", "missing");
                else if (!members.add(member.name())) errors.add(at + ".name", "duplicate member \"" + member.name() + "\"");
                if (member.address() == null) {
                    errors.add(at + ".address", "missing");
                } else if (!LITERAL_ADDRESS.matcher(member.address()).matches() || AddressList.problem(member.address()) != null) {
                    errors.add(at + ".address", "\"" + member.address() + "\" is not an IP address");
                }
                if (member.site() != null && !sites.contains(member.site())) errors.add(at + ".site", "unknown site \"" + member.site() + "\"");
                if (member.priority() < 0) errors.add(at + ".priority", "must be 0 or more (lower is preferred)");
                if (member.weight() < 0) errors.add(at + ".weight", "must be 0 or more");
            }
            checkHealth(pool.check(), path + ".check", errors);
        }
        return names;
    }

    private static void checkHealth(HealthCheck check, String path, Errors errors) {
        if (check.port() == null) errors.add(path + ".port", "missing: a tcp check needs the port to connect to");
        else if (check.port() < 1 || check.port() > 65535) errors.add(path + ".port", check.port() + " is not a port (1-65535)");
        if (!check.path().startsWith("/")) errors.add(path + ".path", "must start with /");
        if (check.expectStatus() < 100 || check.expectStatus() > 599) errors.add(path + ".expect_status", "not an HTTP status (100-599)");
        if (check.interval().toMillis() < 100) errors.add(path + ".interval", "must be at least 100ms");
        if (check.timeout().toMillis() < 10) errors.add(path + ".timeout", "must be at least 10ms");
        else if (check.timeout().compareTo(check.interval()) > 0) errors.add(path + ".timeout", "must not be longer than the interval");
        if (check.fall() < 1) errors.add(path + ".fall", "must be at least 1");
        if (check.rise() < 1) errors.add(path + ".rise", "must be at least 1");
    }

    private static void checkZone(DnsZone zone, String path, Set<String> keys, Set<String> pools, Errors errors) {
        Name origin;
        try {
            origin = ZoneBuilder.origin(zone.name());
        } catch (Exception e) {
            errors.add(path + ".name", "\"" + zone.name() + "\" is not a DNS name: " + e.getMessage());
            return;
        }
        if (zone.ttl().isNegative() || zone.ttl().toSeconds() > Integer.MAX_VALUE) errors.add(path + ".ttl", "out of range");
        for (int i = 0; i < zone.transfer().allow().size(); i++) {
            String problem = AddressList.problem(zone.transfer().allow().get(i));
            if (problem != null) errors.add(path + ".transfer.allow[" + i + "]", problem);
        }
        references(zone.transfer().keys(), keys, path + ".transfer.keys", errors);
        references(zone.updateKeys(), keys, path + ".update_keys", errors);
        for (int i = 0; i < zone.alsoNotify().size(); i++) {
            try {
                Notifier.parseTarget(zone.alsoNotify().get(i));
            } catch (IllegalArgumentException e) {
                errors.add(path + ".also_notify[" + i + "]", e.getMessage());
            }
        }
        boolean apexNs = false;
        Map<Name, String> owners = new HashMap<>();
        for (int r = 0; r < zone.records().size(); r++) {
            DnsRecordSet set = zone.records().get(r);
            String at = path + ".records[" + r + "]";
            if (set.name() == null) {
                errors.add(at + ".name", "missing");
                continue;
            }
            Name owner;
            try {
                owner = RecordText.owner(set.name(), origin);
            } catch (Exception e) {
                errors.add(at + ".name", "\"" + set.name() + "\" is not a DNS name: " + e.getMessage());
                continue;
            }
            // compared as DNS names: "mail", "MAIL" and "mail.<zone>." are one owner
            String first = owners.putIfAbsent(owner, set.name());
            if (first != null) {
                errors.add(at + ".name", "duplicate name \"" + set.name() + "\"" + (first.equals(set.name()) ? "" : " (the same as \"" + first + "\")")
                        + ": give each name one entry");
            }
            if (owner.equals(origin)) apexNs = !set.ns().isEmpty();
            Map<String, List<String>> byType = set.byType();
            if (set.cname() != null && (byType.size() > 1 || set.pool() != null)) {
                errors.add(at + ".cname", "a name with a CNAME can have no other data (RFC 1034 3.6.2)");
            }
            if (set.cname() != null && owner.equals(origin)) errors.add(at + ".cname", "the apex cannot be a CNAME");
            if (set.pool() != null) {
                if (!pools.contains(set.pool())) errors.add(at + ".pool", "unknown pool \"" + set.pool() + "\"");
                if (!set.a().isEmpty() || !set.aaaa().isEmpty()) errors.add(at + ".pool", "a name is either a pool or has its own a/aaaa records, not both");
            }
            for (Map.Entry<String, List<String>> e : byType.entrySet()) {
                String field = e.getKey().toLowerCase();
                for (int v = 0; v < e.getValue().size(); v++) {
                    String valuePath = at + "." + field + (field.equals("cname") ? "" : "[" + v + "]");
                    try {
                        RecordText.parse(owner, e.getKey(), 0, e.getValue().get(v), origin);
                    } catch (Exception ex) {
                        errors.add(valuePath, "\"" + e.getValue().get(v) + "\" is not valid " + e.getKey() + " data: " + ex.getMessage());
                    }
                }
            }
        }
        if (!apexNs) errors.add(path + ".records", "the apex (@) needs at least one ns record");
    }

    private static void references(List<String> used, Set<String> defined, String path, Errors errors) {
        for (int i = 0; i < used.size(); i++) {
            if (!defined.contains(used.get(i))) errors.add(path + "[" + i + "]", "unknown TSIG key \"" + used.get(i) + "\" (see dns.tsig_keys)");
        }
    }

    /** The TSIG keys as dnsjava wants them. */
    public static TSIG tsig(DnsConfig.TsigKey key) {
        return new TSIG(TSIG.algorithmToName(key.algorithm()), key.name() + ".", key.secret());
    }
}
