package dev.tandem.shell.cli;

/** A user error: printed as one line ("error: …"); the session goes on. */
public final class CliException extends Exception {
    public CliException(String message) {
        super(message);
    }
}
