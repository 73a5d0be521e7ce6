package dev.reliablestore.cluster.backends;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import dev.reliablestore.tck.EntityStoreTck;
import dev.reliablestore.tck.TckDocument;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The provider TCK on the ZooKeeper backend: one in-process server (curator-test's TestingServer),
 * a fresh chroot per test so every test starts on an empty ensemble, digest ACL credentials on the
 * chroot, zstd compression, AES-256-GCM encryption (keys from a PKCS#12 file) and the local cache,
 * all opened by URI through {@link ClusterPersistenceProvider} as an application would.
 */
class ZooKeeperTckTest extends EntityStoreTck {

    private static final String DIGEST = "tck:zk-tck-secret";
    private static final char[] KEY_STORE_PASSWORD = "tck-key-store-password".toCharArray();
    private static final AtomicInteger CHROOTS = new AtomicInteger();

    @TempDir
    static Path dir;
    private static TestingServer server;
    private String chroot;

    @BeforeAll
    static void startServer() throws Exception {
        KeyStoreFiles.addNewKey(dir.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, "zk-tck-key");
        server = new TestingServer(-1, dir.resolve("zk").toFile(), true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private ClusterPersistenceConfiguration.Builder config(String digest) {
        ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder()
                .clusterName("zookeeper://" + server.getConnectString() + chroot)
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Tck")
                .enableCompression(true)
                .enableEncryption(true).keyStore(dir.resolve("keys.p12"), "PKCS12", KEY_STORE_PASSWORD, null)
                .enableLocalCache(true).cacheTTL(Duration.ofHours(1))
                .failoverTimeout(Duration.ofSeconds(10))
                .registryOption("failoverTimeout", "10000ms")
                .registryOption("sessionTimeout", "10000ms");
        if (digest != null) {
            b.registryOption("digest", digest);
        } else {
            b.registryOption("acl", "open"); // a client without credentials has to say so explicitly
        }
        return b;
    }

    @Override
    protected StoreFactory openFactory() {
        chroot = "/provider-tck-" + CHROOTS.incrementAndGet();
        return ClusterPersistenceProvider.open(config(DIGEST).build());
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(ClusterPersistenceProvider.open(config(DIGEST).build()));
    }

    @Override
    protected int incrementsPerThread() {
        return 125; // every attempt is a quorum write: 1,000 increments over 8 threads still race on every one
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(config(DIGEST).build().maxValueSizeKB() * 1024L);
    }

    /**
     * Nodes join a ZooKeeper cluster by opening a registry on its chroot, so minimumNodes above the
     * nodes seen so far is no configuration error: a node that starts alone opens once the store's
     * layout exists and refuses writes, retryably, until enough nodes are live; on a new chroot,
     * writing the layout is such a write.
     */
    @Test
    void minimumNodesAboveTheLiveNodesRefusesWritesRetryablyUntilEnoughAreLive() {
        chroot = "/provider-minimum-nodes-" + CHROOTS.incrementAndGet();
        ClusterPersistenceConfiguration gated = config(DIGEST).minimumNodes(2).failoverTimeout(Duration.ofMillis(300))
                .retryDelay(Duration.ofMillis(20)).registryOption("failoverTimeout", "300ms").build();
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(gated).close())
                .isInstanceOf(dev.reliablestore.api.StoreUnavailableException.class).hasMessageContaining("fewer than minNodes=2");
        try (StoreFactory earlier = ClusterPersistenceProvider.open(config(DIGEST).build())) {
            earlier.store(TckDocument.class); // the layout and the type, from a node without the requirement
        }
        try (StoreFactory first = ClusterPersistenceProvider.open(gated)) {
            dev.reliablestore.api.EntityStore<TckDocument> docs = first.store(TckDocument.class);
            assertThatThrownBy(() -> docs.save("a", TckDocument.simple("alone", 1)))
                    .isInstanceOf(dev.reliablestore.api.StoreUnavailableException.class).hasMessageContaining("minimumNodes = 2");
            try (StoreFactory second = ClusterPersistenceProvider.open(config(DIGEST).build())) {
                second.store(TckDocument.class);
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptionsInstanceOf(
                        dev.reliablestore.api.StoreUnavailableException.class)
                        .until(() -> docs.save("a", TckDocument.simple("two", 1)) == 1);
            }
        }
    }

    /** The chroot's digest ACL holds at the provider level: without (acl=open) or with wrong credentials the store cannot be opened. */
    @Test
    void aFactoryWithoutTheDigestCredentialsCannotOpenTheStore() {
        docs().save("secret", TckDocument.simple("kept from strangers", 1));
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(config(null).build()).close())
                .isInstanceOf(PersistenceException.class).hasMessageContaining("not authorized");
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(config("tck:wrong").build()).close())
                .isInstanceOf(PersistenceException.class).hasMessageContaining("not authorized");
    }
}
