package dev.reliablestore.registry;

import java.util.Objects;

/**
 * An administrator's failover, drain or resume was refused, or did not finish; the message names
 * the node and the values that decided it. Nothing moved unless {@link #reason()} is
 * {@link Reason#TIMED_OUT} (then the move may still complete).
 */
public class NodeOperationRefusedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    /** Why the operation was refused. */
    public enum Reason {
        /** The backend has no second node to move to (embedded), or offers no such operation. */
        UNSUPPORTED,
        /** The cluster does not know the node. */
        UNKNOWN_NODE,
        /** The node is not up (down, joining, or its state is unknown). */
        NOT_UP,
        /** The node is drained (paused): it cannot become the primary until it is resumed. */
        DRAINED,
        /** The node never takes the primary role (ZooKeeper option primaryCandidate=false: an administrator's tool). */
        NOT_CANDIDATE,
        /** The node is up but its own health check fails. */
        UNHEALTHY,
        /** The node has not seen the commit sequence the primary had when the failover was asked for. */
        NOT_CAUGHT_UP,
        /** The node is the primary already. */
        ALREADY_PRIMARY,
        /** No other node could take over (none up and undrained). */
        NO_TARGET,
        /** Resume of a node that is not drained. */
        NOT_DRAINED,
        /** Another failover or drain is still running. */
        IN_PROGRESS,
        /** The move was accepted but did not complete within the failover timeout. */
        TIMED_OUT
    }

    private final Reason reason;
    private final String node;

    public NodeOperationRefusedException(Reason reason, String node, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.node = node;
    }

    public Reason reason() {
        return reason;
    }

    /** The node the refusal is about; null when there is none (no target found). */
    public String node() {
        return node;
    }
}
