package dev.tandem.component;

import dev.tandem.cluster.ConfigVersion;

/**
 * A reconciler: given the newest desired state, it moves the world toward it. {@link #apply} is
 * idempotent and may be called again with a version it has seen.
 */
public interface Component {
    String name();

    /** Binds sockets and starts workers. Must not wait for quorum. */
    void start(ComponentContext context) throws Exception;

    /** Called on this component's own thread, never on a cluster thread; only the newest version counts. */
    void apply(ConfigVersion version) throws Exception;

    /** Idempotent. */
    void stop() throws Exception;

    /** The commands this component adds to the admin shell. */
    default java.util.List<ShellCommand> shellCommands() {
        return java.util.List.of();
    }
}
