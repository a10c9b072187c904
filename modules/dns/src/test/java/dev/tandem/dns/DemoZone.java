package dev.tandem.dns;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.DnsConfig;
import dev.tandem.config.DnsPool;
import dev.tandem.config.DnsZone;
import dev.tandem.dns.server.ServedZone;
import dev.tandem.dns.server.ServingState;
import dev.tandem.dns.zone.ZoneBuilder;
import dev.tandem.dns.zone.ZoneSnapshot;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.xbill.DNS.Name;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;

/**
 * The zone the DNS tests ask questions of: one small cluster document whose {@code demo.test} has a
 * name for every corner of RFC 1034 lookup (empty non-terminals, a wildcard, a delegation with glue,
 * CNAME chains that end well, nowhere and in a loop) and a failover pool.
 */
public final class DemoZone {
    public static final String ZONE = "demo.test";
    public static final long SERIAL = 42;
    public static final String TRANSFER_SECRET = "2ySWf4gm0UQpDNJm3BE5tTV4L4oZCK6kJbVfpCU4iy8=";
    public static final String UPDATE_SECRET = "ZDVX1fbVXxY4NmUcvYXd7dl0c6rA2JxC7Lsq6nZd8Tg=";
    /** How many A records {@code big} has: more than fit in 512 bytes, fewer than in 1232. */
    public static final int BIG = 50;

    /** The cluster around the zone: just enough for the validator to get to the dns rules. */
    public static final String CLUSTER = """
            schema_version: 1
            cluster: {name: t}
            sites: [{name: site-a}, {name: site-b}]
            nodes:
              - {name: a1, site: site-a, control_address: 127.0.1.1, roles: [services]}
              - {name: b1, site: site-b, control_address: 127.0.2.1, roles: [services]}
            """;

    public static final String DNS = """
            dns:
              port: 5300
              tsig_keys:
                - {name: transfer-key, algorithm: hmac-sha256, secret: %s}
                - {name: update-key, algorithm: hmac-sha256, secret: %s}
              pools:
                - name: www
                  ttl: 30s
                  members:
                    - {name: site-a, address: 192.0.2.10, site: site-a, priority: 1}
                    - {name: site-a6, address: "2001:db8::10", site: site-a, priority: 1}
                    - {name: site-b, address: 198.51.100.10, site: site-b, priority: 2}
                  check: {type: http, port: 8000, path: /}
              zones:
                - name: demo.test
                  ttl: 5m
                  soa: {minimum: 1m}
                  transfer: {allow: [127.0.0.1], keys: [transfer-key]}
                  update_keys: [update-key]
                  also_notify: ["192.0.2.200:5353"]
                  records:
                    - {name: "@", ns: [ns-a, ns-b], mx: ["10 mail"], txt: ["tandem demo zone"]}
                    - {name: ns-a, a: [192.0.2.1]}
                    - {name: ns-b, a: [192.0.2.2]}
                    - {name: www, pool: www}
                    - {name: mail, a: [192.0.2.25]}
                    - {name: docs, cname: www}
                    - {name: a.b.deep, a: [192.0.2.30]}
                    - {name: "*.wild", a: [192.0.2.40], txt: ["from the wildcard"]}
                    - {name: host.wild, a: [192.0.2.41]}
                    - {name: a.ent.wild, a: [192.0.2.42]}
                    - {name: sub, ns: [ns1.sub, ns.elsewhere.example.]}
                    - {name: ns1.sub, a: [192.0.2.53]}
                    - {name: dangling, cname: nothere}
                    - {name: loop1, cname: loop2}
                    - {name: loop2, cname: loop1}
                    - {name: chain1, cname: chain2}
                    - {name: chain2, cname: mail}
                    - {name: away, cname: www.example.org.}
                    - {name: big, a: [%s]}
            """.formatted(TRANSFER_SECRET, UPDATE_SECRET,
            IntStream.range(0, BIG).mapToObj(i -> "192.0.2." + (100 + i)).collect(Collectors.joining(", ")));

    public static final String YAML = CLUSTER + DNS;

    private DemoZone() {}

    public static ClusterConfig config() {
        try {
            return ConfigCodec.readYaml(YAML);
        } catch (Exception e) {
            throw new IllegalStateException("the test document does not read", e);
        }
    }

    public static DnsZone zone() {
        return config().dns().zone(ZONE).orElseThrow();
    }

    public static Map<String, DnsPool> pools(DnsConfig dns) {
        Map<String, DnsPool> pools = new HashMap<>();
        dns.pools().forEach(p -> pools.put(p.name(), p));
        return pools;
    }

    /** The zone with {@code www} answering its first tier (both site-a addresses). */
    public static ZoneSnapshot snapshot() {
        return snapshot(zone(), SERIAL, List.of(address("192.0.2.10"), address("2001:db8::10")));
    }

    public static ZoneSnapshot snapshot(DnsZone zone, long serial, List<InetAddress> www) {
        try {
            return ZoneBuilder.build(zone, serial, pools(config().dns()), pool -> pool.equals("www") ? www : List.of());
        } catch (Exception e) {
            throw new IllegalStateException("the test zone does not build", e);
        }
    }

    /** Serving the demo zone with both TSIG keys, as DnsComponent would. */
    public static ServingState state() {
        return state(snapshot());
    }

    public static ServingState state(ZoneSnapshot snapshot) {
        Map<Name, TSIG> keys = new HashMap<>();
        for (DnsConfig.TsigKey key : config().dns().tsigKeys()) keys.put(name(key.name() + "."), DnsConfigRule.tsig(key));
        return new ServingState(Map.of(snapshot.origin(), new ServedZone(snapshot, zone())), keys);
    }

    public static TSIG transferKey() {
        return new TSIG(TSIG.HMAC_SHA256, "transfer-key.", TRANSFER_SECRET);
    }

    public static TSIG updateKey() {
        return new TSIG(TSIG.HMAC_SHA256, "update-key.", UPDATE_SECRET);
    }

    /** A name in the zone: {@code www} → {@code www.demo.test.}; {@code @} is the apex; absolute names are kept. */
    public static Name name(String text) {
        try {
            if (text.equals("@")) return Name.fromString(ZONE + ".");
            return Name.fromString(text, Name.fromString(ZONE + "."));
        } catch (TextParseException e) {
            throw new IllegalArgumentException(e);
        }
    }

    public static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
