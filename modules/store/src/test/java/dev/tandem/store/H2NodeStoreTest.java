package dev.tandem.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.cluster.ConfigVersion;
import dev.tandem.config.ClusterConfig;
import dev.tandem.config.ClusterSettings;
import dev.tandem.config.Node;
import dev.tandem.config.Role;
import dev.tandem.config.Site;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class H2NodeStoreTest {
    @TempDir
    Path dir;

    private static ConfigVersion version(long n, String comment) {
        ClusterConfig config = new ClusterConfig(1, new ClusterSettings("c" + n, null, null, null, null),
                List.of(new Site("site-a", null)),
                List.of(new Node("a1", "site-a", "127.0.0.1", null, null, Set.of(Role.SERVICES))),
                null, null, null, null, null);
        return new ConfigVersion(n, config, "alice", "10.0.0.9", Instant.parse("2026-01-02T03:04:05Z"), comment);
    }

    @Test
    void aVersionIsRecordedExactlyOnceAndSurvivesReopening() {
        try (H2NodeStore store = H2NodeStore.open(dir)) {
            assertThat(store.recordVersion(version(1, "first"))).isTrue();
            assertThat(store.recordVersion(version(1, "replayed"))).isFalse();
            assertThat(store.recordVersion(version(2, "second"))).isTrue();
        }
        try (H2NodeStore store = H2NodeStore.open(dir)) {
            assertThat(store.latestVersion()).get().isEqualTo(version(2, "second"));
            assertThat(store.version(1)).get().extracting(ConfigVersion::comment).isEqualTo("first");
            assertThat(store.history(10)).extracting(ConfigVersion::version).containsExactly(2L, 1L);
            assertThat(store.auditLog(10))
                    .extracting(AuditEntry::action, AuditEntry::detail, AuditEntry::who)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple("config.commit", "version 2 (second), 2 changes: - set cluster.name c1; + set cluster.name c2", "alice"),
                            org.assertj.core.groups.Tuple.tuple("config.commit", "version 1 (first), first version recorded here", "alice"));
        }
    }

    @Test
    void localStateIsKeptPerKey() {
        try (H2NodeStore store = H2NodeStore.open(dir)) {
            assertThat(store.local("k")).isEmpty();
            store.putLocal("k", "v1");
            store.putLocal("k", "v2");
        }
        try (H2NodeStore store = H2NodeStore.open(dir)) {
            assertThat(store.local("k")).contains("v2");
        }
    }

    @Test
    void anEmptyStoreHasNoVersion() {
        try (H2NodeStore store = H2NodeStore.open(dir)) {
            assertThat(store.latestVersion()).isEmpty();
            assertThat(store.history(5)).isEmpty();
        }
    }
}
