package dev.reliablestore.cluster.backends;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.BackendsTestSupport;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ReplicationMode;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import dev.reliablestore.registry.clusapi.ClusapiTestAccess;
import dev.reliablestore.registry.clusapi.FakeClusApi;
import dev.reliablestore.tck.EntityStoreTck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The provider TCK on the clusapi backend over {@link FakeClusApi}, the in-memory fake of
 * clusapi.dll and resutils.dll (no Windows cluster here). A fresh fake per test; the persistence
 * tests reopen a new registry and factory over the same fake, whose cluster database outlives both.
 * Compression, encryption and the local cache are on, replication ASYNC (batch notification port
 * feed, visibility check on the read batch path).
 *
 * <p>The Windows cluster registry compares key and value names case-insensitively; the backend
 * maps every name to a case-preserving form (docs/windows.md, "Case"), so the TCK runs whole here,
 * including the ids {@code b}/{@code B}, the types {@code TckDocument}/{@code tckdocument} and every
 * case variant among the unusual ids, over a fake that folds case as Windows does.
 */
class ClusapiTckTest extends EntityStoreTck {

    private static final URI URI_ = URI.create("clusapi://FAKECLUSTER/Software/ReliableStoreTck");
    private static final char[] KEY_STORE_PASSWORD = "tck-key-store-password".toCharArray();

    @TempDir
    static Path keys;
    private FakeClusApi fake;

    @BeforeAll
    static void createKeyStore() {
        KeyStoreFiles.addNewKey(keys.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, "clusapi-tck-key");
    }

    private static ClusterPersistenceConfiguration config() {
        return ClusterPersistenceConfiguration.builder()
                .clusterName(URI_.toString())
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Tck")
                .enableCompression(true)
                .enableEncryption(true).keyStore(keys.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, null)
                .enableLocalCache(true)
                .replicationMode(ReplicationMode.ASYNCHRONOUS)
                .build();
    }

    private StoreFactory open() {
        return BackendsTestSupport.factoryOwning(config(), ClusapiTestAccess.open(fake, URI_, Map.of("localNode", "NODE1")));
    }

    @Override
    protected StoreFactory openFactory() {
        fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3");
        return open();
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(open());
    }

    @Override
    protected int incrementsPerThread() {
        return 125; // ~5 ms per increment through the clusapi batch path: 1,000 increments over 8 threads still race on every one
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(config().maxValueSizeKB() * 1024L);
    }
}
