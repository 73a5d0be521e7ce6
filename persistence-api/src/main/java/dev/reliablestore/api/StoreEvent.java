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

    /** The primary (owner) node changed; {@code oldNode} is null when there was none. */
    record NodeFailover(Instant time, String oldNode, String newNode) implements StoreEvent {
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
