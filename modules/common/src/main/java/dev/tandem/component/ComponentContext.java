package dev.tandem.component;

import dev.tandem.cluster.ClusterService;
import dev.tandem.config.NodeLocalConfig;
import dev.tandem.store.NodeStore;

/** What a component is given at start: who this node is, the cluster, and local durable state. */
public record ComponentContext(NodeLocalConfig local, ClusterService cluster, NodeStore store) {}
