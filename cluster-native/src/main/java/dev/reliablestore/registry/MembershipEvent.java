package dev.reliablestore.registry;

/** A change of membership. */
public sealed interface MembershipEvent permits MembershipEvent.PrimaryChanged, MembershipEvent.NodeStateChanged {

    /**
     * The primary moved; either side is null when there was, or is, none. {@code requested} is true
     * when the move is one an administrator asked for ({@link ClusterRegistry#failover}, or a drain of
     * the primary), false when the cluster moved it by itself (a node failed, node affinity).
     */
    record PrimaryChanged(String oldPrimary, String newPrimary, boolean requested) implements MembershipEvent {

        /** A move the cluster made by itself. */
        public PrimaryChanged(String oldPrimary, String newPrimary) {
            this(oldPrimary, newPrimary, false);
        }
    }

    record NodeStateChanged(String node, NodeState oldState, NodeState newState) implements MembershipEvent {
    }
}
