package dev.tandem.appliance.local;

/**
 * The local admin API: one JSON request and one JSON response per connection on the node's unix
 * socket. The socket is mode 0600 in the data directory, so only the node's own user (root on the
 * appliance) can use it; the SSH shell is the way in for everybody else.
 */
public final class LocalAdminProtocol {
    public static final String SOCKET = "admin.sock";
    /** Larger requests are refused: a cluster document is kilobytes. */
    static final int MAX_REQUEST = 4 * 1024 * 1024;

    private LocalAdminProtocol() {}

    /** {@code op} is "show" (the running document) or "commit" (a new document, YAML). */
    public record Request(String op, String document, String author, String comment, Long expectedVersion) {}

    /** Either {@code version} and {@code document}, or {@code error} (a CommitException reason or "BAD_REQUEST") and {@code message}. */
    public record Response(Long version, String document, String error, String message) {
        static Response ok(long version, String document) {
            return new Response(version, document, null, null);
        }

        static Response error(String error, String message) {
            return new Response(null, null, error, message);
        }
    }
}
