package dev.tandem.config;

import java.util.List;
import java.util.ServiceLoader;

/**
 * A component's own checks on the document (a DNS record's data parses, a VPN subnet does not overlap
 * another), found with {@link ServiceLoader}: the module that owns a section also owns its rules, and
 * every commit runs them through {@link ConfigValidator}. Must be pure and deterministic, since every
 * node's state machine runs them on every version.
 */
public interface ConfigRule {
    /** Reports each problem with its path in list-index form ({@code dns.zones[0].records[2].mx[0]}). */
    void check(ClusterConfig config, Errors errors);

    /**
     * Checks a change from the running document to the next (an epoch that may only grow). Called after
     * {@link #check} found the next document valid.
     */
    default void checkChange(ClusterConfig running, ClusterConfig next, Errors errors) {}

    interface Errors {
        void add(String path, String message);
    }

    /** The rules on the class path, loaded once. */
    static List<ConfigRule> installed() {
        return Installed.RULES;
    }

    final class Installed {
        private static final List<ConfigRule> RULES = ServiceLoader.load(ConfigRule.class).stream()
                .map(ServiceLoader.Provider::get)
                .toList();

        private Installed() {}
    }
}
