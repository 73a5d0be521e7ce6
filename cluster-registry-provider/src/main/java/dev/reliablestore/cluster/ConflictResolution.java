package dev.reliablestore.cluster;

/**
 * What a conditional save does when the stored version is not the expected one
 * (configuration key {@code conflictResolution}). Unconditional saves never conflict: they are
 * always applied on top of whatever is stored. Conditional deletes are always strict.
 */
public enum ConflictResolution {
    /** Fail with {@link dev.reliablestore.api.ConcurrencyConflictException}; nothing is written. */
    OPTIMISTIC,
    /**
     * The attempted value replaces whatever is stored (the last writer wins); the new version is the
     * stored version plus one and a {@link dev.reliablestore.api.StoreEvent.ConflictResolved} is emitted.
     */
    LAST_WRITE_WINS,
    /**
     * The {@link ConflictResolver} registered for the entity class merges the stored and the
     * attempted value; the merge is written conditionally on the stored version it was computed from,
     * retried up to {@code maxRetries} times when the store changes again meanwhile.
     */
    MERGE
}
