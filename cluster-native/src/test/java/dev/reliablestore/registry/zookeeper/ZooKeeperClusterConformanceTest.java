package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The registry conformance suite on a three-server ensemble (curator-test's TestingCluster, in process). */
class ZooKeeperClusterConformanceTest extends ClusterRegistryConformance {

    static {
        ZkTestSupport.init();
    }

    private static TestingCluster cluster;
    private String chroot;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = new TestingCluster(3);
        cluster.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected ClusterRegistry openRegistry() {
        chroot = ZkTestSupport.freshChroot("cluster-conformance");
        return ZkTestSupport.open(cluster.getConnectString(), chroot);
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return ZkTestSupport.open(cluster.getConnectString(), chroot);
    }
}
