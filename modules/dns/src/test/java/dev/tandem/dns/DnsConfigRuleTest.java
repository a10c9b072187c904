package dev.tandem.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigError;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.ConfigTree;
import dev.tandem.config.ConfigValidator;
import dev.tandem.config.InvalidConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The dns section's own checks, run the way every commit runs them: {@link ConfigValidator} finds
 * {@link DnsConfigRule} through the ServiceLoader entry this module ships.
 */
class DnsConfigRuleTest {
    @Test
    void theRuleIsFoundOnTheClassPath() {
        assertThat(ConfigRule.installed()).hasAtLeastOneElementOfType(DnsConfigRule.class);
    }

    @Test
    void theTestZoneAndTheDemoAreValid() throws Exception {
        ConfigValidator.validate(ConfigCodec.readYaml(DemoZone.YAML));
        ClusterConfig demo = ConfigValidator.validate(ConfigCodec.readYaml(Path.of("../../configs/demo/cluster.yaml")));
        assertThat(demo.dns().zones()).isNotEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // record data
        "mx: [\"10 mail\"]|mx: [\"ten mail\"]|dns.zones[0].records[0].mx[0]|\"ten mail\" is not valid MX data",
        "{name: mail, a: [192.0.2.25]}|{name: mail, a: [192.0.2.256]}|dns.zones[0].records[4].a[0]|\"192.0.2.256\" is not valid A data",
        "{name: docs, cname: www}|{name: docs, cname: \"bad..name\"}|dns.zones[0].records[5].cname|\"bad..name\" is not valid CNAME data",
        "{name: ns-a, a: [192.0.2.1]}|{name: \"bad..name\", a: [192.0.2.1]}|dns.zones[0].records[1].name|is not a DNS name",
        // references and shapes
        "{name: www, pool: www}|{name: www, pool: nowhere}|dns.zones[0].records[3].pool|unknown pool \"nowhere\"",
        "{name: www, pool: www}|{name: www, pool: www, a: [192.0.2.9]}|dns.zones[0].records[3].pool|either a pool or has its own a/aaaa records",
        "{name: docs, cname: www}|{name: docs, cname: www, txt: [hello]}|dns.zones[0].records[5].cname|a name with a CNAME can have no other data",
        "{name: docs, cname: www}|{name: docs, cname: www, pool: www}|dns.zones[0].records[5].cname|a name with a CNAME can have no other data",
        "{name: \"@\", ns: [ns-a, ns-b],|{name: \"@\", cname: mail, ns: [ns-a, ns-b],|dns.zones[0].records[0].cname|the apex cannot be a CNAME",
        "{name: \"@\", ns: [ns-a, ns-b], |{name: \"@\", |dns.zones[0].records|the apex (@) needs at least one ns record",
        "{name: ns-b, a: [192.0.2.2]}|{name: ns-a, a: [192.0.2.2]}|dns.zones[0].records[2].name|duplicate name \"ns-a\"",
        // transfers, updates, notifies
        "keys: [transfer-key]|keys: [transfer-key, nokey]|dns.zones[0].transfer.keys[1]|unknown TSIG key \"nokey\" (see dns.tsig_keys)",
        "update_keys: [update-key]|update_keys: [updatekey]|dns.zones[0].update_keys[0]|unknown TSIG key \"updatekey\"",
        "allow: [127.0.0.1]|allow: [127.0.0.1, 10.0.0.0/33]|dns.zones[0].transfer.allow[1]|\"10.0.0.0/33\" has a bad prefix length (0-32)",
        "allow: [127.0.0.1]|allow: [secondary.example]|dns.zones[0].transfer.allow[0]|\"secondary.example\" is not an address or CIDR block",
        "allow: [127.0.0.1]|allow: [\"2001:db8::/129\"]|dns.zones[0].transfer.allow[0]|has a bad prefix length (0-128)",
        "\"192.0.2.200:5353\"|\"192.0.2.200:99999\"|dns.zones[0].also_notify[0]|\"192.0.2.200:99999\" has a bad port (1-65535)",
        "\"192.0.2.200:5353\"|ns2.example|dns.zones[0].also_notify[0]|\"ns2.example\" is not an IP address[:port]",
        "\"192.0.2.200:5353\"|\"[2001:db8::1:53\"|dns.zones[0].also_notify[0]|missing ]",
        // keys
        "secret: 2ySWf4gm0UQpDNJm3BE5tTV4L4oZCK6kJbVfpCU4iy8=|secret: c2hvcnQ=|dns.tsig_keys[0].secret|too short: at least 16 bytes",
        "secret: 2ySWf4gm0UQpDNJm3BE5tTV4L4oZCK6kJbVfpCU4iy8=|secret: not*base64!|dns.tsig_keys[0].secret|not base64",
        "secret: 2ySWf4gm0UQpDNJm3BE5tTV4L4oZCK6kJbVfpCU4iy8=}|}|dns.tsig_keys[0].secret|missing",
        "algorithm: hmac-sha256, secret: 2ySW|algorithm: hmac-md5, secret: 2ySW|dns.tsig_keys[0].algorithm|\"hmac-md5\" is not one of hmac-sha1, hmac-sha256",
        "{name: update-key,|{name: transfer-key,|dns.tsig_keys[1].name|duplicate key \"transfer-key\"",
        "{name: update-key,|{name: Update_Key,|dns.tsig_keys[1].name|is not a valid key name",
        // pools
        "address: 198.51.100.10|address: www.example.org|dns.pools[0].members[2].address|\"www.example.org\" is not an IP address",
        "site: site-b, priority: 2|site: site-x, priority: 2|dns.pools[0].members[2].site|unknown site \"site-x\"",
        "{name: site-b, address|{name: site-a, address|dns.pools[0].members[2].name|duplicate member \"site-a\"",
        "check: {type: http, port: 8000, path: /}|check: {type: tcp}|dns.pools[0].check.port|missing: a tcp check needs the port",
        "check: {type: http, port: 8000, path: /}|check: {type: http, interval: 1s, timeout: 2s}|dns.pools[0].check.timeout|must not be longer than the interval",
        "check: {type: http, port: 8000, path: /}|check: {type: http, path: health}|dns.pools[0].check.path|must start with /",
        "port: 5300|port: 70000|dns.port|70000 is not a port (1-65535)",
    })
    void problemsAreReportedWithTheirPath(String replace, String with, String path, String message) {
        List<ConfigError> errors = errors(broken(replace, with));
        assertThat(errors).as("%s", errors)
                .anySatisfy(e -> {
                    assertThat(e.path()).isEqualTo(path);
                    assertThat(e.message()).contains(message);
                });
    }

    @Test
    void twoEntriesForOneOwnerAreDuplicatesHoweverTheyAreSpelled() {
        // mail, MAIL and mail.demo.test. are one name: two entries would be merged or one silently lost
        for (String alias : List.of("MAIL", "mail.demo.test.", "Mail.Demo.Test.")) {
            List<ConfigError> errors = errors(broken("{name: ns-b, a: [192.0.2.2]}", "{name: \"" + alias + "\", a: [192.0.2.2]}"));
            assertThat(errors).as(alias).anySatisfy(e -> {
                assertThat(e.path()).as("the second entry is the duplicate").isEqualTo("dns.zones[0].records[4].name");
                assertThat(e.message()).contains("duplicate name");
            });
        }
    }

    @Test
    void everyProblemIsReported() {
        String broken = broken("mx: [\"10 mail\"]", "mx: [\"ten mail\"]")
                .replace("pool: www}", "pool: nowhere}")
                .replace("keys: [transfer-key]", "keys: [nokey]");
        assertThat(errors(broken)).extracting(ConfigError::path).contains(
                "dns.zones[0].records[0].mx[0]", "dns.zones[0].records[3].pool", "dns.zones[0].transfer.keys[0]");
    }

    @Test
    void throughTheConfigTreeErrorsNameTheZoneAndTheRecord() throws Exception {
        String broken = broken("{name: www, pool: www}", "{name: www, pool: www, mx: [\"10 mail\", \"mail\"]}");
        ConfigTree tree = ConfigTree.of(ConfigCodec.readYaml(broken));

        assertThatThrownBy(tree::toConfig)
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.errors()).singleElement().satisfies(err -> {
                    assertThat(err.path()).isEqualTo("dns.zones.demo.test.records.www.mx[1]");
                    assertThat(err.message()).startsWith("\"mail\" is not valid MX data");
                }));
    }

    @Test
    void aRecordCanBeFixedThroughTheConfigTree() throws Exception {
        ConfigTree tree = ConfigTree.of(ConfigCodec.readYaml(broken("mx: [\"10 mail\"]", "mx: [\"ten mail\"]")));
        tree.delete("dns.zones.demo.test.records.@.mx", "ten mail");
        tree.set("dns.zones.demo.test.records.@.mx", "20 mail");
        tree.set("dns.zones.demo.test.records._sip._tcp.srv", "0 5 5060 mail");

        ClusterConfig fixed = tree.toConfig();
        assertThat(fixed.dns().zone("demo.test").orElseThrow().recordSet("@").orElseThrow().mx()).containsExactly("20 mail");
        assertThat(fixed.dns().zone("demo.test").orElseThrow().recordSet("_sip._tcp").orElseThrow().srv()).containsExactly("0 5 5060 mail");
    }

    private static String broken(String replace, String with) {
        String broken = DemoZone.YAML.replaceFirst(Pattern.quote(replace), Matcher.quoteReplacement(with));
        assertThat(broken).as("the test must change the document: %s", replace).isNotEqualTo(DemoZone.YAML);
        return broken;
    }

    private static List<ConfigError> errors(String yaml) {
        try {
            ConfigValidator.validate(ConfigCodec.readYaml(yaml));
        } catch (InvalidConfigException e) {
            return e.errors();
        }
        throw new AssertionError("the document was accepted:\n" + yaml);
    }
}
