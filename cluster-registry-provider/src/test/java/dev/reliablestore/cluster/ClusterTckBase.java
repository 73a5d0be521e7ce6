package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.EntityStoreTck;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/** The provider TCK on the embedded registry: a fresh directory per test, reopened for the persistence test. */
abstract class ClusterTckBase extends EntityStoreTck {

    @TempDir
    Path dir;

    /** The configuration of a factory over the embedded registry in {@code registryDir}. */
    protected abstract ClusterPersistenceConfiguration.Builder configure(ClusterPersistenceConfiguration.Builder builder);

    private ClusterPersistenceConfiguration config() {
        return configure(ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir.resolve("registry"))
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Tck")).build();
    }

    @Override
    protected StoreFactory openFactory() {
        return ClusterPersistenceProvider.open(config());
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(ClusterPersistenceProvider.open(config()));
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(config().maxValueSizeKB() * 1024L);
    }

    @Override
    protected int incrementsPerThread() {
        return 200; // a SYNC attempt waits for an fsync: 1,600 increments over 8 threads still race on every one
    }
}
