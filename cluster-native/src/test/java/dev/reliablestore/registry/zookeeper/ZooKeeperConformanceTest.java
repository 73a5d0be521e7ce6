package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The registry conformance suite on a one-server ensemble (curator-test's TestingServer, in process),
 * with digest credentials, as a production store runs: every open and reopen passes the ACL check.
 */
class ZooKeeperConformanceTest extends ClusterRegistryConformance {

    static {
        ZkTestSupport.init();
    }

    private static final String DIGEST = "conformance:conformance-secret";
    private static TestingServer server;
    private String chroot;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected ClusterRegistry openRegistry() {
        chroot = ZkTestSupport.freshChroot("conformance");
        return ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST);
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return ZkTestSupport.open(server.getConnectString(), chroot, "digest", DIGEST);
    }

    /** Collects the change log as the primary would once every bucket is older than feedRetention (a later clock, no waiting). */
    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) throws Exception {
        ((ZooKeeperRegistry) current).collectLogGarbage(System.currentTimeMillis() + java.time.Duration.ofDays(2).toMillis());
        return true;
    }
}
