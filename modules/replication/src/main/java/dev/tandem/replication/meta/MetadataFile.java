package dev.tandem.replication.meta;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Reads and writes a replica's {@link ReplicaMetadata} as a JSON file, atomically and durably. */
public final class MetadataFile {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MetadataFile() {
    }

    /** The stored metadata, or empty if the file does not exist (a replica never initialised). */
    public static Optional<ReplicaMetadata> load(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(bytes, ReplicaMetadata.class));
        } catch (JacksonException e) {
            throw new IOException("replica metadata file " + file + " is unreadable: " + e.getMessage(), e);
        }
    }

    /** Replaces the file with {@code metadata}; once this returns it survives a crash. */
    public static void save(Path file, ReplicaMetadata metadata) throws IOException {
        AtomicFiles.write(file, JSON.writeValueAsBytes(metadata));
    }
}
