package dev.tandem.config;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a whole document and reports every problem with its path. Pure and deterministic: the raft
 * state machine runs it on every node, so all nodes accept or refuse a version alike.
 */
public final class ConfigValidator {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Set<String> SSH_KEY_TYPES = Set.of(
            "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
            "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com");

    private final List<ConfigError> errors = new ArrayList<>();

    private ConfigValidator() {}

    /** Returns the document if it is valid; otherwise throws with every problem found. */
    public static ClusterConfig validate(ClusterConfig config) throws InvalidConfigException {
        ConfigValidator v = new ConfigValidator();
        v.check(config);
        if (!v.errors.isEmpty()) throw new InvalidConfigException(v.errors);
        return config;
    }

    /**
     * Checks a change from {@code running} to {@code next}: the raft voters are fixed when the cluster
     * is created, so the set of nodes and their control addresses cannot change by a commit.
     */
    public static ClusterConfig validateChange(ClusterConfig running, ClusterConfig next) throws InvalidConfigException {
        validate(next);
        Map<String, String> before = new HashMap<>();
        running.nodes().forEach(n -> before.put(n.name(), n.controlAddress()));
        Map<String, String> after = new HashMap<>();
        next.nodes().forEach(n -> after.put(n.name(), n.controlAddress()));
        if (!before.equals(after)) {
            throw new InvalidConfigException("nodes",
                    "adding or removing nodes, or moving their control addresses, is not supported by a commit yet: "
                            + "the raft voters are fixed when the cluster is created (running has " + before + ")");
        }
        if (!running.cluster().name().equals(next.cluster().name())) {
            throw new InvalidConfigException("cluster.name", "the cluster name cannot change (running is \""
                    + running.cluster().name() + "\")");
        }
        ConfigValidator v = new ConfigValidator();
        for (ConfigRule rule : ConfigRule.installed()) rule.checkChange(running, next, v::error);
        if (!v.errors.isEmpty()) throw new InvalidConfigException(v.errors);
        return next;
    }

    private void check(ClusterConfig c) {
        if (c.schemaVersion() == null) {
            error("schema_version", "missing (this release writes " + ClusterConfig.SCHEMA_VERSION + ")");
        } else if (c.schemaVersion() != ClusterConfig.SCHEMA_VERSION) {
            error("schema_version", "unsupported version " + c.schemaVersion() + " (this release reads "
                    + ClusterConfig.SCHEMA_VERSION + ")");
        }
        checkCluster(c.cluster());
        Set<String> sites = checkSites(c.sites());
        checkNodes(c.nodes(), sites);
        checkUsers(c.users());
        if (errors.isEmpty()) {
            // components' rules may rely on the shape checked above (sites and nodes exist and are named)
            for (ConfigRule rule : ConfigRule.installed()) rule.check(c, this::error);
        }
    }


    private void checkCluster(ClusterSettings s) {
        name("cluster.name", s.name());
        port("cluster.control_port", s.controlPort());
        port("cluster.admin_port", s.adminPort());
        port("cluster.ssh_port", s.sshPort());
        if (s.controlPort().equals(s.adminPort())) error("cluster.admin_port", "must differ from cluster.control_port");
        if (s.sshPort().equals(s.adminPort()) || s.sshPort().equals(s.controlPort())) {
            error("cluster.ssh_port", "must differ from cluster.control_port and cluster.admin_port");
        }
        ClusterSettings.FailureDetection fd = s.failureDetection();
        positive("cluster.failure_detection.timeout", fd.timeout());
        positive("cluster.failure_detection.interval", fd.interval());
        positive("cluster.failure_detection.verify", fd.verify());
        if (fd.interval().compareTo(fd.timeout()) >= 0) {
            error("cluster.failure_detection.interval", "must be shorter than the timeout ("
                    + HumanDurations.format(fd.timeout()) + ")");
        }
    }

    private Set<String> checkSites(List<Site> sites) {
        if (sites.isEmpty()) error("sites", "at least one site is needed");
        Set<String> names = new HashSet<>();
        for (int i = 0; i < sites.size(); i++) {
            String path = "sites[" + i + "]";
            Site site = sites.get(i);
            if (site == null) {
                error(path, "empty entry");
            } else if (name(path + ".name", site.name()) && !names.add(site.name())) {
                error(path + ".name", "duplicate site \"" + site.name() + "\"");
            }
        }
        return names;
    }

    private void checkNodes(List<Node> nodes, Set<String> sites) {
        if (nodes.isEmpty()) error("nodes", "at least one node is needed");
        Set<String> names = new HashSet<>();
        Map<String, String> addresses = new HashMap<>();
        boolean anyServices = false;
        for (int i = 0; i < nodes.size(); i++) {
            String path = "nodes[" + i + "]";
            Node node = nodes.get(i);
            if (node == null) {
                error(path, "empty entry");
                continue;
            }
            if (name(path + ".name", node.name()) && !names.add(node.name())) {
                error(path + ".name", "duplicate node \"" + node.name() + "\"");
            }
            if (node.site() == null) {
                error(path + ".site", "missing");
            } else if (!sites.contains(node.site())) {
                error(path + ".site", "unknown site \"" + node.site() + "\"");
            }
            if (address(path + ".control_address", node.controlAddress(), true)) {
                String other = addresses.putIfAbsent(node.controlAddress(), node.name());
                if (other != null) {
                    error(path + ".control_address", node.controlAddress() + " is already the control address of "
                            + other);
                }
            }
            address(path + ".admin_address", node.adminAddress(), false);
            address(path + ".public_address", node.publicAddress(), false);
            if (node.roles().isEmpty()) {
                error(path + ".roles", "missing: give [services] or [witness]");
            } else if (node.roles().size() > 1) {
                error(path + ".roles", "a node is either services or witness, not both");
            }
            anyServices |= node.roles().contains(Role.SERVICES);
        }
        if (!nodes.isEmpty() && !anyServices) error("nodes", "at least one node needs the services role");
    }

    private void checkUsers(List<User> users) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < users.size(); i++) {
            String path = "users[" + i + "]";
            User user = users.get(i);
            if (user == null) {
                error(path, "empty entry");
                continue;
            }
            if (name(path + ".name", user.name()) && !names.add(user.name())) {
                error(path + ".name", "duplicate user \"" + user.name() + "\"");
            }
            if (user.role() == null) error(path + ".role", "missing: admin or operator");
            for (int k = 0; k < user.keys().size(); k++) {
                String problem = sshKeyProblem(user.keys().get(k));
                if (problem != null) error(path + ".keys[" + k + "]", problem);
            }
        }
    }

    /** An OpenSSH public key line: {@code type base64 [comment]}, whose blob names the same type. */
    static String sshKeyProblem(String line) {
        if (line == null || line.isBlank()) return "empty key";
        String[] parts = line.trim().split("\\s+", 3);
        if (parts.length < 2) return "not an OpenSSH public key line (expected \"TYPE BASE64 [COMMENT]\")";
        if (!SSH_KEY_TYPES.contains(parts[0])) return "unsupported key type \"" + parts[0] + "\"";
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            return "the key data is not base64";
        }
        if (blob.length < 4) return "the key data is too short";
        int len = ((blob[0] & 0xff) << 24) | ((blob[1] & 0xff) << 16) | ((blob[2] & 0xff) << 8) | (blob[3] & 0xff);
        if (len <= 0 || len > blob.length - 4 || !new String(blob, 4, len).equals(parts[0])) {
            return "the key data does not match its type \"" + parts[0] + "\"";
        }
        return null;
    }

    private boolean name(String path, String value) {
        if (value == null || value.isEmpty()) {
            error(path, "missing");
            return false;
        }
        if (!NAME.matcher(value).matches()) {
            error(path, "\"" + value + "\" is not a valid name (lower-case letters, digits and '-', up to 63)");
            return false;
        }
        return true;
    }

    private boolean address(String path, String value, boolean required) {
        if (value == null) {
            if (required) error(path, "missing");
            return false;
        }
        // literal addresses only: the control plane must not depend on DNS, which it serves itself
        boolean literal = IPV4.matcher(value).matches() || value.contains(":");
        try {
            if (literal) {
                InetAddress parsed = InetAddress.getByName(value);
                if (parsed.isAnyLocalAddress() || parsed.isMulticastAddress()) {
                    error(path, value + " cannot be a node's address");
                    return false;
                }
                return true;
            }
        } catch (Exception e) {
            // fall through to the error below
        }
        error(path, "\"" + value + "\" is not an IP address");
        return false;
    }

    private void port(String path, Integer port) {
        if (port != null && (port < 1 || port > 65535)) error(path, port + " is not a port (1-65535)");
    }

    private void positive(String path, Duration d) {
        if (d.isZero() || d.isNegative()) error(path, "must be longer than 0");
    }

    private void error(String path, String message) {
        errors.add(new ConfigError(path, message));
    }
}
