package dev.tandem.config;

/** One problem in a config document: where it is and what is wrong, e.g. {@code nodes[2].site: unknown site "site-x"}. */
public record ConfigError(String path, String message) {
    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
