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
        cluster = DistinctPortsCluster.of(3);
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

    /** Collects the change log as the primary would once every bucket is older than feedRetention (a later clock, no waiting). */
    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) throws Exception {
        ((ZooKeeperRegistry) current).collectLogGarbage(System.currentTimeMillis() + java.time.Duration.ofDays(2).toMillis());
        return true;
    }
}
