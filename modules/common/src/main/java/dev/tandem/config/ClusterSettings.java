package dev.tandem.config;

import java.time.Duration;

/** Cluster-wide settings. Null fields take the defaults below. */
public record ClusterSettings(
        String name, Integer controlPort, Integer adminPort, Integer sshPort, FailureDetection failureDetection) {

    public static final int DEFAULT_CONTROL_PORT = 7800;
    public static final int DEFAULT_ADMIN_PORT = 9000;
    public static final int DEFAULT_SSH_PORT = 2222;

    public ClusterSettings {
        controlPort = controlPort == null ? DEFAULT_CONTROL_PORT : controlPort;
        adminPort = adminPort == null ? DEFAULT_ADMIN_PORT : adminPort;
        sshPort = sshPort == null ? DEFAULT_SSH_PORT : sshPort;
        failureDetection = failureDetection == null ? FailureDetection.DEFAULT : failureDetection;
    }

    /**
     * How fast a silent node is suspected. A crashed process is noticed at once (its sockets close);
     * these numbers bound the time for a hung node or a cut link.
     */
    public record FailureDetection(Duration timeout, Duration interval, Duration verify) {
        public static final FailureDetection DEFAULT = new FailureDetection(null, null, null);

        public FailureDetection {
            timeout = timeout == null ? Duration.ofSeconds(3) : timeout;
            interval = interval == null ? Duration.ofSeconds(1) : interval;
            verify = verify == null ? Duration.ofMillis(1500) : verify;
        }
    }
}
