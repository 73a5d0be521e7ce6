package dev.reliablestore.it.tx;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionalResource;

import java.nio.file.Path;
import java.util.Map;

/** Opens cluster-registry factories on embedded registries for the transaction tests. */
final class TxFixtures {

    private TxFixtures() {
    }

    /** A cluster-registry factory on an embedded registry in {@code dir} (no local cache: reads go to the registry). */
    static StoreFactory registry(Path dir) {
        return Persistence.openFactory("cluster-registry", Map.of(
                "clusterName", "embedded:" + dir.toAbsolutePath(),
                "resourceGroupName", "ReliableStore-RG",
                "registryKeyPath", "Tx",
                "enableLocalCache", "false"));
    }

    static TransactionalResource resource(StoreFactory factory) {
        return TransactionalResource.from(factory);
    }
}
