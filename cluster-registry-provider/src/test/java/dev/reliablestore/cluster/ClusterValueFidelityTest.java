package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.ValueFidelityTck;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The value-fidelity kit on the embedded registry, with the local cache on, read back from a reopened registry too. */
class ClusterValueFidelityTest extends ValueFidelityTck {

    @TempDir
    Path dir;

    private StoreFactory open() {
        return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir.resolve("registry"))
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Fidelity")
                .enableCompression(true)
                .enableLocalCache(true).cacheTTL(Duration.ofHours(1))
                .build());
    }

    @Override
    protected StoreFactory openFactory() {
        return open();
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(open());
    }
}
