package dev.tandem.config;

import java.nio.file.Path;

/**
 * What a node knows before any cluster exists and never replicates: who it is, where its data lives,
 * and the cluster document it was created with (the seed for its very first start).
 * Read from the {@code node.yaml} that {@code tandem init} writes into each node's directory.
 */
public record NodeLocalConfig(String node, Path dataDir, Path seed) {

    public Path tlsDir() {
        return dataDir.resolve("tls");
    }

    /** Reads {@code node.yaml}; relative paths in it are relative to the file's directory. */
    public static NodeLocalConfig read(Path file) throws InvalidConfigException {
        Path base = file.toAbsolutePath().getParent();
        File raw = ConfigCodec.read(ConfigCodec.yaml(), ConfigCodec.readFile(file), File.class);
        if (raw.node() == null || raw.node().isBlank()) throw new InvalidConfigException("node", "missing in " + file);
        Path dataDir = raw.dataDir() == null ? base : base.resolve(raw.dataDir()).normalize();
        Path seed = base.resolve(raw.clusterConfig() == null ? "cluster.yaml" : raw.clusterConfig()).normalize();
        return new NodeLocalConfig(raw.node(), dataDir, seed);
    }

    /** The file's shape. */
    public record File(String node, String dataDir, String clusterConfig) {}
}
