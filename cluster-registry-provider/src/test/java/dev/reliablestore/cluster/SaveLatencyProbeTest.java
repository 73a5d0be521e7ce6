package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

class SaveLatencyProbeTest {
    @TempDir
    Path dir;

    @Test
    void probe() throws Exception {
        try (TestingServer server = new TestingServer(-1, dir.resolve("zk").toFile(), true)) {
            CountDownLatch c = new CountDownLatch(1);
            ZooKeeper zk = new ZooKeeper(server.getConnectString(), 30000, e -> c.countDown());
            c.await();
            zk.create("/raw", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            byte[] kb = new byte[1024];
            for (int i = 0; i < 100; i++) {
                zk.create("/raw/" + i, kb, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }
            ClusterRegistry reg = ClusterRegistries.open("zookeeper://" + server.getConnectString() + "/probe?acl=open");
            ClusterStoreFactory f = ClusterStoreFactory.onRegistry(ClusterPersistenceConfiguration.builder().enableLocalCache(Boolean.getBoolean("probe.cache")).enableCompression(false)
                    .clusterName("zookeeper://" + server.getConnectString() + "/probe")
                    .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH).build(), reg);
            EntityStore<Customer> store = f.store(Customer.class);
            for (int i = 0; i < 100; i++) {
                store.save("c" + i, Customer.of("c" + i, i));
            }
            RegistryPath k = RegistryPath.of("direct", "Order");
            for (int round = 0; round < 4; round++) {
                int n = 1000;
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    zk.setData("/raw/" + (i % 100), kb, -1);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    reg.commit(WriteBatch.builder().setValue(k, "v" + (i % 100), RegistryValue.binary(kb)).build());
                }
                long t2 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    store.save("c" + (i % 100), Customer.of("c" + i, i));
                }
                long t3 = System.nanoTime();
                System.out.printf("PROBE round %d: setData %.0f us, registry.commit(1 setValue) %.0f us, store.save %.0f us%n", round,
                        (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n, (t3 - t2) / 1e3 / n);
            }
            f.close();
            reg.close();
            zk.close();
        }
    }
}
