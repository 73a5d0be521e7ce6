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
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(config(DIGEST).build().maxValueSizeKB() * 1024L);
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
