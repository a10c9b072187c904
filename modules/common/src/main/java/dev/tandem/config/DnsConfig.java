package dev.tandem.config;

import java.util.List;
import java.util.Optional;

/**
 * The {@code dns} section: the zones every node serves, the failover pools their names may point at,
 * and the TSIG keys that sign transfers and dynamic updates.
 *
 * @param port UDP and TCP port on each node's public address (53 unless set)
 */
public record DnsConfig(Integer port, List<TsigKey> tsigKeys, List<DnsZone> zones, List<DnsPool> pools) {
    public static final int DEFAULT_PORT = 53;

    public DnsConfig {
        port = port == null ? DEFAULT_PORT : port;
        tsigKeys = tsigKeys == null ? List.of() : List.copyOf(tsigKeys);
        zones = zones == null ? List.of() : List.copyOf(zones);
        pools = pools == null ? List.of() : List.copyOf(pools);
    }

    public DnsConfig() {
        this(null, null, null, null);
    }

    public Optional<DnsPool> pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Optional<DnsZone> zone(String name) {
        return zones.stream().filter(z -> z.name().equals(name)).findFirst();
    }

    public DnsConfig withZone(DnsZone zone) {
        List<DnsZone> next = zones.stream().map(z -> z.name().equals(zone.name()) ? zone : z).toList();
        return new DnsConfig(port, tsigKeys, next, pools);
    }

    /** A shared secret for TSIG (RFC 8945); the secret is base64, as {@code tsig-keygen} prints it. */
    public record TsigKey(String name, String algorithm, String secret) {
        public TsigKey {
            algorithm = algorithm == null ? "hmac-sha256" : algorithm;
        }
    }
}
