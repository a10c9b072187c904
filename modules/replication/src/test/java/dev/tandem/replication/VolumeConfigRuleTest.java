package dev.tandem.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ConfigCodec;
import dev.tandem.config.ConfigRule;
import dev.tandem.config.Volume;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VolumeConfigRuleTest {
    private static final String BASE = """
            schema_version: 1
            cluster: {name: t}
            sites: [{name: site-a}, {name: site-b}, {name: site-c}]
            nodes:
              - {name: a1, site: site-a, control_address: 10.0.0.1, roles: [services]}
              - {name: a2, site: site-a, control_address: 10.0.0.2, roles: [services]}
              - {name: b1, site: site-b, control_address: 10.0.1.1, roles: [services]}
              - {name: w1, site: site-c, control_address: 10.0.2.1, roles: [witness]}
            """;

    @Test
    void aGoodVolumePasses() throws Exception {
        assertThat(errors(config("""
                volumes:
                  - name: db
                    size_mib: 64
                    protocol: a
                    replicas: [{name: a1}, {name: b1, device: /dev/vdb}]
                    group: {service: {start: "systemctl start pg", stop: "systemctl stop pg"}}
                proxy:
                  pools: [{name: www, members: [{name: a, address: "10.0.0.9:80", site: site-a, volume: db}]}]
                """))).isEmpty();
    }

    @Test
    void eachProblemIsReportedWithItsPath() throws Exception {
        assertThat(errors(config("""
                volumes:
                  - name: DB
                    size_mib: 0
                    block_size: 1000
                    replicas: [{name: a1}, {name: a2}, {name: w1}, {name: zz}]
                    primary: b1
                    outdated: [a1]
                    failover: {dead_after: 2s, lease: 3s}
                    group: {mount: {device: sdb, path: srv}, service: {start: "x"}}
                dns:
                  pools: [{name: www, members: [{name: a, address: 10.0.0.9, volume: nope}]}]
                """))).containsExactlyInAnyOrder(
                "volumes[0].name: a volume needs a name of lower-case letters, digits and dashes",
                "volumes[0].size_mib: the size in MiB must be a positive number",
                "volumes[0].block_size: must be a power of two from 512 to 1048576, not 1000",
                "volumes[0].failover.lease: must be shorter than failover.dead_after (2000ms)",
                "volumes[0].replicas: this release replicates to one secondary: at most 2 replicas, not 4",
                "volumes[0].replicas[1].name: nodes a1 and a2 are both at site-a: replicas must be at different sites, or one site's loss takes both",
                "volumes[0].replicas[2].name: node w1 is a witness: it holds no data",
                "volumes[0].replicas[3].name: no node \"zz\"",
                "volumes[0].primary: \"b1\" is not one of the replicas [a1, a2, w1]",
                "volumes[0].group.mount.device: needs the NBD device to attach, such as /dev/nbd0",
                "volumes[0].group.mount.path: needs an absolute mount point",
                "volumes[0].group.service: needs both start and stop commands",
                "dns.pools[0].members[0].volume: no volume \"nope\"",
                "dns.pools[0].members[0].site: a member that follows volume nope needs a site");
    }

    @Test
    void anEpochOnlyGrowsAndANewPrimaryNeedsANewEpoch() throws Exception {
        ClusterConfig running = config("""
                volumes: [{name: db, size_mib: 64, replicas: [{name: a1}, {name: b1}], epoch: 5}]
                """);
        Volume v = running.volume("db").orElseThrow();
        assertThat(changeErrors(running, running.withVolume(v.withPrimary("b1", 5))))
                .containsExactly("volumes[0].primary: a new primary needs a new epoch: use failover switchover or failover promote");
        assertThat(changeErrors(running, running.withVolume(v.withPrimary("a1", 4))))
                .containsExactly("volumes[0].epoch: an epoch never goes back (running is 5)");
        assertThat(changeErrors(running, running.withVolume(v.withPrimary("b1", 6)))).isEmpty();
        ClusterConfig bigger = config("""
                volumes: [{name: db, size_mib: 128, replicas: [{name: a1}, {name: b1}], epoch: 5}]
                """);
        assertThat(changeErrors(running, bigger)).containsExactly("volumes[0].size_mib: a volume's size cannot change (it is 64 MiB)");
    }

    private static ClusterConfig config(String extra) throws Exception {
        return ConfigCodec.readYaml(BASE + extra);
    }

    private static List<String> errors(ClusterConfig config) {
        List<String> out = new ArrayList<>();
        ConfigRule.Errors errors = (path, message) -> out.add(path + ": " + message);
        new VolumeConfigRule().check(config, errors);
        return out;
    }

    private static List<String> changeErrors(ClusterConfig running, ClusterConfig next) {
        List<String> out = new ArrayList<>();
        new VolumeConfigRule().checkChange(running, next, (path, message) -> out.add(path + ": " + message));
        return out;
    }
}
