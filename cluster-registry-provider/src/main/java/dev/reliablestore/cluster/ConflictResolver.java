package dev.reliablestore.cluster;

import dev.reliablestore.api.Versioned;

/**
 * Merges a conditional save that lost a race with the value that won it
 * ({@link ConflictResolution#MERGE}). Register one per entity class with
 * {@link ClusterPersistenceConfiguration.Builder#conflictResolver(Class, ConflictResolver)}.
 *
 * <p>Called on the writing thread; it must be a pure function of its arguments because it may be
 * called again when the stored value changes once more before the merge is written.
 *
 * <p>With {@code crossSiteConflicts = Merge} it also merges concurrent updates made at two sites
 * (docs/geo-replication.md, Merges), at the site of the later one: {@code stored} is what that site
 * holds, {@code attempted} the losing write and {@code expectedVersion} the stored version. There it
 * should also be idempotent, since a value may meet part of itself when three or more sites wrote.
 *
 * @param <T> the entity type
 */
@FunctionalInterface
public interface ConflictResolver<T> {

    /**
     * @param id              the entity id
     * @param stored          what the store holds now (with its version)
     * @param attempted       what the caller tried to save
     * @param expectedVersion the version the caller expected
     * @return the value to store instead of {@code attempted}; never null
     */
    T resolve(String id, Versioned<T> stored, T attempted, long expectedVersion);
}
