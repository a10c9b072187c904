package dev.tandem.component;

import dev.tandem.cluster.ClusterService;
import dev.tandem.config.Node;
import dev.tandem.config.NodeLocalConfig;
import dev.tandem.store.NodeStore;

/** What a component is given at start: who this node is, the cluster, and local durable state. */
public record ComponentContext(NodeLocalConfig local, ClusterService cluster, NodeStore store) {
    /** This node's entry in the running document (it is always there: nodes cannot be removed by a commit). */
    public Node self() {
        return cluster.running().config().node(local.node()).orElseThrow(() ->
                new IllegalStateException("node " + local.node() + " is not in the running document"));
    }
}
