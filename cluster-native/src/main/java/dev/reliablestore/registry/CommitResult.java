package dev.reliablestore.registry;

/**
 * What a committed batch was given: its commit sequence. Sequences increase with commit order
 * across the whole registry, and every value the batch set has revision {@code sequence}.
 */
public record CommitResult(long sequence) {
}
