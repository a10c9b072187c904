package dev.tandem.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything at one owner name in a zone, one field per record type, each value in zone-file
 * presentation form ({@code mx: ["10 mail"]}, {@code srv: ["0 5 5060 sip"]}). A name may instead point
 * at a failover pool, whose healthy members become its A/AAAA records.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record DnsRecordSet(
        @ConfigName(dotted = true) String name,
        Duration ttl,
        List<String> a,
        List<String> aaaa,
        String cname,
        List<String> mx,
        List<String> txt,
        List<String> srv,
        List<String> caa,
        List<String> ptr,
        List<String> ns,
        String pool) {

    public DnsRecordSet {
        a = copy(a);
        aaaa = copy(aaaa);
        mx = copy(mx);
        txt = copy(txt);
        srv = copy(srv);
        caa = copy(caa);
        ptr = copy(ptr);
        ns = copy(ns);
    }

    private static List<String> copy(List<String> values) {
        return values == null ? List.of() : List.copyOf(values);
    }

    /** The record data by type mnemonic ("A", "MX"...), in a fixed order; types without data are left out. */
    @JsonIgnore
    public Map<String, List<String>> byType() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        put(out, "NS", ns);
        put(out, "A", a);
        put(out, "AAAA", aaaa);
        if (cname != null) out.put("CNAME", List.of(cname));
        put(out, "MX", mx);
        put(out, "TXT", txt);
        put(out, "SRV", srv);
        put(out, "CAA", caa);
        put(out, "PTR", ptr);
        return out;
    }

    /** The inverse of {@link #byType()}: a record set holding exactly this data. */
    public static DnsRecordSet of(String name, Duration ttl, Map<String, List<String>> byType, String pool) {
        List<String> cnames = byType.getOrDefault("CNAME", List.of());
        return new DnsRecordSet(name, ttl, byType.get("A"), byType.get("AAAA"), cnames.isEmpty() ? null : cnames.get(0),
                byType.get("MX"), byType.get("TXT"), byType.get("SRV"), byType.get("CAA"), byType.get("PTR"),
                byType.get("NS"), pool);
    }

    /** The record types a record set can hold, by mnemonic. */
    public static final List<String> TYPES = List.of("NS", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA", "PTR");

    @JsonIgnore
    public boolean isEmpty() {
        return byType().isEmpty() && pool == null;
    }

    private static void put(Map<String, List<String>> out, String type, List<String> values) {
        if (!values.isEmpty()) out.put(type, values);
    }
}
