package dev.tandem.cluster;

/** A commit that did not happen; nothing was applied anywhere. */
public class CommitException extends Exception {
    public enum Reason {
        /** this side of a partition cannot reach a majority of the voters */
        NO_QUORUM,
        /** the running version moved on since the change was prepared */
        CONFLICT,
        /** the document is invalid */
        INVALID,
        /** no answer from the leader in time; the outcome is unknown */
        TIMEOUT
    }

    private final Reason reason;

    public CommitException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
