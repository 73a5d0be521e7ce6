package dev.reliablestore.cluster;

/**
 * How a write is acknowledged (configuration key {@code replicationMode}).
 */
public enum ReplicationMode {
    /**
     * A write returns once the registry reports the batch durable ({@code ClusterRegistry.commit}):
     * fsync'ed on the embedded backend, committed by a quorum on ZooKeeper.
     */
    SYNCHRONOUS,
    /**
     * A write is handed to the registry with {@code ClusterRegistry.commitAsync}: the batch's
     * conditions are decided and the new value is visible to readers, but the write is not yet
     * durable when the call returns; what a crash can lose is stated by each registry backend.
     * Where a batch becomes readable only once it is durable (ZooKeeper, clusapi: a quorum commit),
     * a write returns at that point, as with {@link #SYNCHRONOUS}.
     */
    ASYNCHRONOUS
}
