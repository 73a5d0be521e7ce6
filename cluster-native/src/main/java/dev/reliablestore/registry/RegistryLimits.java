package dev.reliablestore.registry;

/**
 * The sizes a backend accepts. Every backend accepts values up to {@link RegistryValue#MAX_SIZE};
 * batch limits differ (ZooKeeper must fit a whole multi() into one request).
 *
 * @param maxValueSize     bytes of one value's wire form
 * @param maxBatchBytes    {@link WriteBatch#encodedSize()} of one batch
 * @param maxBatchCommands commands in one batch
 */
public record RegistryLimits(int maxValueSize, long maxBatchBytes, int maxBatchCommands) {
}
