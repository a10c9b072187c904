package dev.tandem.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigValidatorTest {
    static final Path DEMO = Path.of("../../configs/demo/cluster.yaml");

    private static final String VALID = """
            schema_version: 1
            cluster: {name: t}
            sites: [{name: site-a}, {name: site-b}]
            nodes:
              - {name: a1, site: site-a, control_address: 127.0.1.1, roles: [services]}
              - {name: b1, site: site-b, control_address: 127.0.2.1, roles: [services]}
            users:
              - name: alice
                role: admin
                keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEdyx5QG4dPjQF8tv9ye2f9wO6wmvn/6H1mYnqbNVv4Q alice@laptop"]
            """;

    @Test
    void theShippedConfigsAreValid() throws Exception {
        for (String file : new String[] {"demo/cluster.yaml", "single-node.yaml", "two-sites-witness.yaml"}) {
            ClusterConfig config = ConfigValidator.validate(ConfigCodec.readYaml(Path.of("../../configs", file)));
            assertThat(config.nodes()).isNotEmpty();
        }
    }

    @Test
    void defaultsFillWhatIsLeftOut() throws Exception {
        ClusterConfig config = ConfigValidator.validate(ConfigCodec.readYaml(VALID));
        assertThat(config.cluster().controlPort()).isEqualTo(7800);
        assertThat(config.cluster().adminPort()).isEqualTo(9000);
        assertThat(config.cluster().failureDetection().timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.node("a1")).get().extracting(Node::effectiveAdminAddress).isEqualTo("127.0.1.1");
    }

    @Test
    void yamlRoundTripKeepsTheDocument() throws Exception {
        ClusterConfig demo = ConfigCodec.readYaml(DEMO);
        String yaml = ConfigCodec.toYaml(demo);
        assertThat(ConfigCodec.readYaml(yaml)).isEqualTo(demo);
        assertThat(ConfigCodec.readJson(ConfigCodec.toJson(demo))).isEqualTo(demo);
        assertThat(yaml).contains("control_address: 127.0.1.1").contains("timeout: 3s").contains("verify: 1500ms");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "site: site-a, control_address: 127.0.1.1|site: site-x, control_address: 127.0.1.1|nodes[0].site: unknown site \"site-x\"",
        "{name: b1, site: site-b|{name: a1, site: site-b|nodes[1].name: duplicate node \"a1\"",
        "control_address: 127.0.2.1|control_address: 127.0.1.1|nodes[1].control_address: 127.0.1.1 is already the control address of a1",
        "control_address: 127.0.2.1|control_address: 127.0.999.1|nodes[1].control_address: \"127.0.999.1\" is not an IP address",
        "control_address: 127.0.2.1|control_address: b1.example.net|nodes[1].control_address: \"b1.example.net\" is not an IP address",
        "{name: site-b}|{name: site-a}|sites[1].name: duplicate site \"site-a\"",
        "schema_version: 1|schema_version: 7|schema_version: unsupported version 7 (this release reads 1)",
        "cluster: {name: t}|cluster: {name: T_1}|cluster.name: \"T_1\" is not a valid name (lower-case letters, digits and '-', up to 63)",
        "cluster: {name: t}|cluster: {name: t, control_port: 70000}|cluster.control_port: 70000 is not a port (1-65535)",
        "cluster: {name: t}|cluster: {name: t, failure_detection: {timeout: 1s, interval: 2s}}|cluster.failure_detection.interval: must be shorter than the timeout (1s)",
        "roles: [services]}\\n  - {name: b1|roles: [services, witness]}\\n  - {name: b1|nodes[0].roles: a node is either services or witness, not both",
        "role: admin|role: root|users[0].role: \"root\" is not valid: expected one of admin, operator",
        "AAAAC3NzaC1lZDI1NTE5AAAAIEdy|AAAAB3NzaC1yc2EAAAADAQABAAAAgQ|users[0].keys[0]: the key data does not match its type \"ssh-ed25519\"",
        "cluster: {name: t}|cluster: {name: t, contol_port: 1}|cluster.contol_port: unknown field (known here: admin_port, control_port, failure_detection, name, ssh_port)",
        "cluster: {name: t}|cluster: {name: t, failure_detection: {timeout: soon}}|cluster.failure_detection.timeout: \"soon\" is not valid: \"soon\" is not a duration: write a whole number and a unit, e.g. 500ms, 3s, 2m, 1h",
        "sites: [{name: site-a}, {name: site-b}]|sites: {name: site-a}|sites: wrong type: expected a list",
    })
    void problemsAreReportedWithTheirPath(String replace, String with, String expected) {
        String broken = VALID.replaceFirst(java.util.regex.Pattern.quote(replace.replace("\\n", "\n")),
                java.util.regex.Matcher.quoteReplacement(with.replace("\\n", "\n")));
        assertThat(broken).isNotEqualTo(VALID);
        assertThatThrownBy(() -> ConfigValidator.validate(ConfigCodec.readYaml(broken)))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining(expected);
    }

    @Test
    void everyProblemIsReportedNotJustTheFirst() {
        String broken = VALID.replace("site: site-a,", "site: nowhere,").replace("127.0.2.1", "not-an-ip");
        assertThatThrownBy(() -> ConfigValidator.validate(ConfigCodec.readYaml(broken)))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.errors())
                        .extracting(ConfigError::path)
                        .containsExactly("nodes[0].site", "nodes[1].control_address"));
    }

    @Test
    void badYamlSaysWhere() {
        assertThatThrownBy(() -> ConfigCodec.readYaml("schema_version: 1\ncluster: {name: t\nsites: ["))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("line 2, column 10");
    }

    @Test
    void nodesAndTheClusterNameCannotChangeByACommit() throws Exception {
        ClusterConfig running = ConfigCodec.readYaml(VALID);
        ClusterConfig moved = ConfigCodec.readYaml(VALID.replace("127.0.2.1", "127.0.2.2"));
        assertThatThrownBy(() -> ConfigValidator.validateChange(running, moved))
                .hasMessageStartingWith("nodes: adding or removing nodes");
        ClusterConfig renamed = ConfigCodec.readYaml(VALID.replace("{name: t}", "{name: u}"));
        assertThatThrownBy(() -> ConfigValidator.validateChange(running, renamed))
                .hasMessageStartingWith("cluster.name: the cluster name cannot change");
        ClusterConfig moreUsers = ConfigCodec.readYaml(VALID.replace("name: alice", "name: bob"));
        assertThat(ConfigValidator.validateChange(running, moreUsers)).isEqualTo(moreUsers);
    }
}
