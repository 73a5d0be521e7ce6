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
 * (docs/geo-replication.md, Merges), at each site that settles the conflict: {@code stored} is what
 * that site holds, {@code attempted} the losing write and {@code expectedVersion} the stored
 * version. There it must also be a join — merging a value into one that already includes it changes
 * nothing (a union, a maximum; not a sum) — since the merged writes of several sites meet again.
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
