package dev.reliablestore.registry;

/**
 * The sizes a backend accepts. No backend accepts a value over {@link RegistryValue#MAX_SIZE} (the
 * Windows cluster database's 1 MiB); a backend may accept less (ZooKeeper with its default
 * {@code jute.maxbuffer} must fit a value and its bookkeeping into one request — see
 * docs/zookeeper-backend.md). Batch limits differ likewise.
 *
 * @param maxValueSize     bytes of one value's wire form
 * @param maxBatchBytes    {@link WriteBatch#encodedSize()} of one batch
 * @param maxBatchCommands commands in one batch
 */
public record RegistryLimits(int maxValueSize, long maxBatchBytes, int maxBatchCommands) {
}
