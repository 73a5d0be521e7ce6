package dev.reliablestore.cluster;

/** TCK without compression or encryption. */
class PlainClusterTckTest extends ClusterTckBase {

    @Override
    protected ClusterPersistenceConfiguration.Builder configure(ClusterPersistenceConfiguration.Builder b) {
        return b.enableCompression(false);
    }
}
