package dev.reliablestore.registry;

/** A cluster node and its state. */
public record NodeInfo(String name, NodeState state) {
}
