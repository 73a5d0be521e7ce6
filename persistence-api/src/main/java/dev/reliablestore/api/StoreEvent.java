package dev.reliablestore.api;

import java.time.Instant;

/** Something a store observed about its cluster or its data, delivered to {@link StoreEventListener}s. */
public sealed interface StoreEvent
        permits StoreEvent.HealthCheckFailed, StoreEvent.HealthRestored, StoreEvent.NodeFailover, StoreEvent.ConflictResolved {

    /** When the store observed it. */
    Instant time();

    /** A periodic health check failed; {@code reason} says which check and why. */
    record HealthCheckFailed(Instant time, String reason) implements StoreEvent {
    }

    /** Health checks pass again after a failure. */
    record HealthRestored(Instant time) implements StoreEvent {
    }

    /**
     * The primary (owner) node changed; {@code oldNode} is null when there was none, {@code newNode}
     * while there is none. {@code requested} is true when an administrator asked for the move (a
     * failover, or a drain of the primary), false when the cluster made it by itself (a node failed).
     */
    record NodeFailover(Instant time, String oldNode, String newNode, boolean requested) implements StoreEvent {

        /** A move the cluster made by itself. */
        public NodeFailover(Instant time, String oldNode, String newNode) {
            this(time, oldNode, newNode, false);
        }
    }

    /**
     * A write met a newer stored version and the configured conflict resolution settled it.
     *
     * @param strategy        the strategy that settled it, e.g. {@code LastWriteWins}
     * @param storedVersion   the version found in the store
     * @param resultVersion   the version written in the end
     */
    record ConflictResolved(Instant time, String typeName, String id, String strategy, long storedVersion,
                            long resultVersion) implements StoreEvent {
    }
}
