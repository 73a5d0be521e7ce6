package dev.reliablestore.registry;

import java.util.List;
import java.util.Optional;

/**
 * A snapshot of membership.
 *
 * @param backend   the backend's scheme, e.g. {@code embedded}
 * @param localNode the name this process is known by in the cluster
 * @param primary   the node that currently owns the resource group, empty while there is none
 * @param nodes     every known node with its state
 */
public record ClusterStatus(String backend, String localNode, Optional<String> primary, List<NodeInfo> nodes) {

    public ClusterStatus {
        nodes = List.copyOf(nodes);
    }

    /** How many nodes are {@link NodeState#UP}. */
    public long liveNodes() {
        return nodes.stream().filter(n -> n.state() == NodeState.UP).count();
    }
}
