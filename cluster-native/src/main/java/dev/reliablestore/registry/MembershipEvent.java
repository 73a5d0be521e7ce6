package dev.reliablestore.registry;

/** A change of membership. */
public sealed interface MembershipEvent permits MembershipEvent.PrimaryChanged, MembershipEvent.NodeStateChanged {

    /** The primary moved; either side is null when there was, or is, none. */
    record PrimaryChanged(String oldPrimary, String newPrimary) implements MembershipEvent {
    }

    record NodeStateChanged(String node, NodeState oldState, NodeState newState) implements MembershipEvent {
    }
}
