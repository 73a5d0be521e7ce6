package dev.reliablestore.registry;

/** The state of a cluster node, after the Windows {@code CLUSTER_NODE_STATE}. */
public enum NodeState {
    UP, DOWN, PAUSED, JOINING, UNKNOWN
}
