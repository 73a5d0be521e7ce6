package dev.reliablestore.registry;

/**
 * What a committed batch was given: its commit sequence. Sequences increase with commit order
 * across the whole registry, and every value the batch set has revision {@code sequence}. A batch
 * that changed nothing (only conditions, or no-op mutations) may or may not get a new sequence; its
 * sequence is at least that of every batch committed before it.
 */
public record CommitResult(long sequence) {
}
