package dev.tandem.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dotted paths through lists whose entry names contain dots themselves (DNS zones and owner names):
 * {@code dns.zones.demo.test.records._sip._tcp.srv}. Where a name ends is read from what follows it.
 */
class ConfigTreeDottedNamesTest {
    private static final String DOC = """
            schema_version: 1
            cluster: {name: t}
            sites: [{name: site-a}]
            nodes:
              - {name: a1, site: site-a, control_address: 127.0.1.1, roles: [services]}
            dns:
              zones:
                - name: demo.test
                  records:
                    - {name: "@", ns: [ns1], mx: ["10 mail"]}
                    - {name: www, a: [192.0.2.1]}
                    - {name: www.eu, a: [192.0.2.2]}
                    - {name: mail, a: [192.0.2.25]}
                - name: test
                  records:
                    - {name: "@", ns: [ns1.demo.test.]}
            """;

    private ConfigTree tree;

    @BeforeEach
    void read() throws Exception {
        tree = ConfigTree.of(ConfigCodec.readYaml(DOC));
    }

    @Test
    void aDottedZoneNameSpansSeveralSteps() throws Exception {
        tree.set("dns.zones.demo.test.ttl", "5m");
        tree.set("dns.zones.test.ttl", "1h");

        ClusterConfig config = tree.toConfig();
        assertThat(zone(config, "demo.test").ttl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(zone(config, "test").ttl()).isEqualTo(Duration.ofHours(1));
        assertThat(tree.get("dns.zones.demo.test.ttl").asText()).isEqualTo("5m");
    }

    @Test
    void anExistingLongerNameWinsOverAShorterOne() throws Exception {
        // both www and www.eu exist: www.eu.a is the a of www.eu, and www.a the a of www
        tree.set("dns.zones.demo.test.records.www.eu.a", "192.0.2.3");
        tree.set("dns.zones.demo.test.records.www.a", "192.0.2.4");

        DnsZone zone = zone(tree.toConfig(), "demo.test");
        assertThat(zone.recordSet("www.eu").orElseThrow().a()).containsExactly("192.0.2.2", "192.0.2.3");
        assertThat(zone.recordSet("www").orElseThrow().a()).containsExactly("192.0.2.1", "192.0.2.4");
    }

    @Test
    void aNewNameEndsWhereThePathGoesOnValidly() throws Exception {
        tree.set("dns.zones.demo.test.records._sip._tcp.srv", "0 5 5060 mail");
        tree.set("dns.zones.demo.test.records.*.apps.a", "192.0.2.8");
        // a new name that starts like an existing one: www.ttl is not the ttl of www, since ".a" follows
        tree.set("dns.zones.demo.test.records.www.ttl.a", "192.0.2.9");
        // a record named like a field of a record
        tree.set("dns.zones.demo.test.records.ttl.a", "192.0.2.10");

        DnsZone zone = zone(tree.toUncheckedConfig(), "demo.test");
        assertThat(zone.recordSet("_sip._tcp").orElseThrow().srv()).containsExactly("0 5 5060 mail");
        assertThat(zone.recordSet("*.apps").orElseThrow().a()).containsExactly("192.0.2.8");
        assertThat(zone.recordSet("www.ttl").orElseThrow().a()).containsExactly("192.0.2.9");
        assertThat(zone.recordSet("ttl").orElseThrow().a()).containsExactly("192.0.2.10");
        assertThat(zone.recordSet("www").orElseThrow().ttl()).isNull();
    }

    @Test
    void aNewZoneWithAFieldNameInsideItsName() throws Exception {
        tree.set("dns.zones.records.example.records.@.ns", "ns1.demo.test.");
        tree.set("dns.zones.records.example.ttl", "10m");

        DnsZone zone = zone(tree.toConfig(), "records.example");
        assertThat(zone.ttl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(zone.recordSet("@").orElseThrow().ns()).containsExactly("ns1.demo.test.");
    }

    @Test
    void anEntryIsCreatedAndDeletedByItsDottedName() throws Exception {
        tree.create("dns.zones.example.org");
        assertThat(tree.childNames("dns.zones")).containsExactly("demo.test", "test", "example.org");

        tree.delete("dns.zones.demo.test.records.www.eu", null);
        assertThat(tree.childNames("dns.zones.demo.test.records")).containsExactly("@", "www", "mail");

        tree.delete("dns.zones.demo.test.records.@.mx", "10 mail");
        assertThat(zone(tree.toUncheckedConfig(), "demo.test").recordSet("@").orElseThrow().mx()).isEmpty();
    }

    @Test
    void completionKnowsEntriesAndTheirFields() {
        assertThat(tree.childNames("dns.zones")).containsExactly("demo.test", "test");
        assertThat(tree.childNames("dns.zones.demo.test.records")).containsExactly("@", "www", "www.eu", "mail");
        assertThat(tree.childNames("dns.zones.demo.test")).contains("ttl", "records", "transfer").doesNotContain("name");
        assertThat(tree.childNames("dns.zones.demo.test.records.www.eu")).contains("a", "mx", "pool").doesNotContain("name");
        // an entry not created yet: its fields are still known
        assertThat(tree.childNames("dns.zones.new.example.records.x")).contains("a", "cname");
    }

    @Test
    void aTypoAfterAnExistingNameIsReportedAtTheTypo() {
        // not read as a new zone called "demo.test.tll": the existing zone, then a field it does not have
        assertThatThrownBy(() -> tree.set("dns.zones.demo.test.tll", "5m"))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.errors()).singleElement().satisfies(err -> {
                    assertThat(err.path()).isEqualTo("dns.zones.demo.test.tll");
                    assertThat(err.message()).startsWith("unknown").contains("ttl");
                }));
        assertThatThrownBy(() -> tree.set("dns.zones.demo.test.records.www.eu.aa", "192.0.2.1"))
                .isInstanceOfSatisfying(InvalidConfigException.class,
                        e -> assertThat(e.errors().get(0).path()).isEqualTo("dns.zones.demo.test.records.www.eu.aa"));
        assertThat(tree.childNames("dns.zones")).containsExactly("demo.test", "test");
    }

    @Test
    void theSchemaAtADottedPath() {
        assertThat(ConfigTree.schemaAt("dns.zones.demo.test.records.www.a")).isInstanceOf(ConfigSchema.ValueList.class);
        assertThat(ConfigTree.schemaAt("dns.zones.demo.test.records.www.cname")).isInstanceOf(ConfigSchema.Value.class);
        assertThat(ConfigTree.schemaAt("dns.zones.demo.test.transfer")).isInstanceOf(ConfigSchema.Section.class);
        // with nothing valid after it, the rest of the path is a name: a zone called demo.test.nonsense
        assertThat(ConfigTree.schemaAt("dns.zones.demo.test.nonsense")).isEqualTo(ConfigTree.schemaAt("dns.zones.demo.test"));
        assertThat(ConfigTree.schemaAt("dns.nonsense")).isNull();
        assertThat(ConfigTree.schemaAt("dns.zones.demo.test.ttl.x")).isEqualTo(ConfigTree.schemaAt("dns.zones.demo.test"));
    }

    @Test
    void badNamesAreRefusedAndLeaveNoTrace() throws Exception {
        String before = ConfigCodec.toJson(tree.toUncheckedConfig());

        assertThatThrownBy(() -> tree.set("dns.zones.Demo.Test.ttl", "5m"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("\"Demo.Test\" is not a valid name");
        assertThatThrownBy(() -> tree.set("dns.zones.demo.test.records.a..b.a", "192.0.2.1"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("\"a..b\" is not a valid name");
        // only a list with dotted names takes them: a site name is one step
        assertThatThrownBy(() -> tree.set("sites.site.x.description", "no"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("unknown");
        assertThatThrownBy(() -> tree.set("dns.zones.demo.test.records.www.name", "other"))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("a name is part of the path");

        assertThat(ConfigCodec.toJson(tree.toUncheckedConfig())).isEqualTo(before);
    }

    @Test
    void errorPathsNameEntriesByTheirDottedNames() {
        assertThat(tree.namedPath("dns.zones[0].records[2].a[0]")).isEqualTo("dns.zones.demo.test.records.www.eu.a[0]");
        assertThat(tree.namedPath("dns.zones[0].records[0].mx[0]")).isEqualTo("dns.zones.demo.test.records.@.mx[0]");
        assertThat(tree.namedPath("dns.zones[1].records")).isEqualTo("dns.zones.test.records");
        assertThat(tree.namedPath("dns.zones[0].transfer.keys[1]")).isEqualTo("dns.zones.demo.test.transfer.keys[1]");
        // an index past the end has no name to give: the index stays
        assertThat(tree.namedPath("dns.zones[5].ttl")).isEqualTo("dns.zones[5].ttl");
    }

    private static DnsZone zone(ClusterConfig config, String name) {
        return config.dns().zone(name).orElseThrow();
    }
}
