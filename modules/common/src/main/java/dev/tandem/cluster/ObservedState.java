package dev.tandem.cluster;

import java.util.Map;

/**
 * Observed state: not committed through raft. Each node publishes its own observations; the others
 * see changes within about a second.
 */
public interface ObservedState {
    /** Sets (or with a null value removes) one of this node's observations and publishes the change. */
    void put(String key, String value);

    /** Every node's latest observations, this node's included, by node name. */
    Map<String, NodeObservations> all();

    void addListener(Runnable onChange);
}
