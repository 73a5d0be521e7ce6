package dev.reliablestore.cluster.backends;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.tck.ValueFidelityTck;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** The value-fidelity kit on the ZooKeeper backend: one in-process server, a fresh chroot per test. */
class ZooKeeperValueFidelityTest extends ValueFidelityTck {

    private static final AtomicInteger CHROOTS = new AtomicInteger();

    @TempDir
    static Path zkDir;
    private static TestingServer server;
    private String chroot;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(-1, zkDir.resolve("zk").toFile(), true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private StoreFactory open() {
        return ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("zookeeper://" + server.getConnectString() + chroot)
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Fidelity")
                .enableCompression(true)
                .enableLocalCache(true)
                .registryOption("acl", "open")
                .build());
    }

    @Override
    protected StoreFactory openFactory() {
        chroot = "/fidelity-" + CHROOTS.incrementAndGet();
        return open();
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(open());
    }
}
