package dev.tandem.cluster;

import java.util.function.Consumer;

/** What components see of the cluster: the running config, commits, membership and observed state. */
public interface ClusterService {
    String nodeName();

    /** The newest version this node has applied; never waits for the cluster. */
    ConfigVersion running();

    /** Commits through raft and returns once a majority has the new version and this node applied it. */
    ConfigVersion commit(CommitRequest request) throws CommitException;

    /**
     * Waits until this node has applied everything the cluster committed before the call (a raft read
     * barrier), and returns that version: for edits that must start from the newest document.
     */
    ConfigVersion sync() throws CommitException;

    Membership membership();

    ObservedState observed();

    /** Called on a cluster thread after each applied version; keep it short. */
    void addConfigListener(Consumer<ConfigVersion> listener);
}
