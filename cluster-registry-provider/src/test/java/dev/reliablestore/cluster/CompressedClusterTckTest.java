package dev.reliablestore.cluster;

/** TCK with the defaults: zstd compression and dictionaries on, a local cache on top. */
class CompressedClusterTckTest extends ClusterTckBase {

    @Override
    protected ClusterPersistenceConfiguration.Builder configure(ClusterPersistenceConfiguration.Builder b) {
        return b.enableLocalCache(true);
    }
}
