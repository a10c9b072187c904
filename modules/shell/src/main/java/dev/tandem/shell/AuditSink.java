package dev.tandem.shell;

/** Where the shell records logins, refused logins and other actions (the node's audit table). */
public interface AuditSink {
    void record(String who, String from, String action, String detail);
}
