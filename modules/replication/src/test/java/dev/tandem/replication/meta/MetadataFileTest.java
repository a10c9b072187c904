package dev.tandem.replication.meta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataFileTest {
    @TempDir
    Path directory;

    @Test
    void missingFileIsEmpty() throws IOException {
        assertThat(MetadataFile.load(directory.resolve("replica.json"))).isEmpty();
    }

    @Test
    void roundTripAndReplace() throws IOException {
        Path file = directory.resolve("replica.json");
        ReplicaMetadata fresh = ReplicaMetadata.fresh(1L << 30, ReplicaMetadata.DEFAULT_BLOCK_SIZE);
        MetadataFile.save(file, fresh);
        assertThat(MetadataFile.load(file)).contains(fresh);

        ReplicaMetadata later = fresh
                .withIds(new GenerationIds(-77L, Map.of("b1", 12L), List.of(12L, 3L)))
                .withEpochSeen(9)
                .withEpochSeen(5)
                .withDisk(DiskState.UP_TO_DATE)
                .withCleanShutdown(false);
        MetadataFile.save(file, later);
        ReplicaMetadata loaded = MetadataFile.load(file).orElseThrow();
        assertThat(loaded).isEqualTo(later);
        assertThat(loaded.newestEpoch()).isEqualTo(9);
        assertThat(loaded.accepts(8)).isFalse();
        assertThat(loaded.accepts(9)).isTrue();
        assertThat(loaded.isCrashedPrimary()).isTrue();
        assertThat(loaded.blocks()).isEqualTo(1L << 18);
        String json = Files.readString(file);
        assertThat(json).contains("\"newestEpoch\"", "\"bitmapByPeer\"").doesNotContain("crashedPrimary", "blocks\"");
        try (var entries = Files.list(directory)) {
            assertThat(entries).as("no temporary files left").containsExactly(file);
        }
    }

    @Test
    void unknownFieldsFromANewerVersionAreIgnored() throws IOException {
        Path file = directory.resolve("replica.json");
        MetadataFile.save(file, ReplicaMetadata.fresh(4096, 512));
        String json = Files.readString(file).replaceFirst("\\{", "{\"addedLater\": 1,");
        Files.writeString(file, json);
        assertThat(MetadataFile.load(file)).contains(ReplicaMetadata.fresh(4096, 512));
    }

    @Test
    void damagedFileNamesTheFile() throws IOException {
        Path file = directory.resolve("replica.json");
        Files.write(file, "{\"ids\": ".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> MetadataFile.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
        Files.writeString(file, "{\"ids\":{\"current\":0},\"disk\":\"UP_TO_DATE\",\"blockSize\":4096}");
        assertThatThrownBy(() -> MetadataFile.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void invalidMetadataIsRefused() {
        assertThatThrownBy(() -> ReplicaMetadata.fresh(4096, 1000)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ReplicaMetadata(null, 0, DiskState.OUTDATED, 0, 4096, true))
                .isInstanceOf(NullPointerException.class);
    }
}
