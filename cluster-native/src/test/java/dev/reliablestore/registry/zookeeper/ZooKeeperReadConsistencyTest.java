package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code readConsistency}: with {@code linearizable} every read goes behind a barrier the leader
 * commits through the quorum. The barrier is seen as zxids used: each one is a transaction.
 */
class ZooKeeperReadConsistencyTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;
    private static CuratorFramework raw;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
        raw = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        raw.start();
        raw.blockUntilConnected();
    }

    @AfterAll
    static void stop() throws Exception {
        raw.close();
        server.close();
    }

    /** Transactions the ensemble committed while {@code reads} ran: the difference of two probes' czxids, minus the second probe. */
    private static long transactionsDuring(Runnable reads) throws Exception {
        String first = raw.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/probe-");
        reads.run();
        String second = raw.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath("/probe-");
        return raw.checkExists().forPath(second).getCzxid() - raw.checkExists().forPath(first).getCzxid() - 1;
    }

    @Test
    void linearizableReadsGoThroughTheQuorumAndSnapshotReadsDoNot() throws Exception {
        RegistryPath key = RegistryPath.of("k");
        for (String consistency : new String[] {"snapshot", "linearizable"}) {
            String chroot = ZkTestSupport.freshChroot("reads-" + consistency);
            try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options("readConsistency", consistency))) {
                r.commit(WriteBatch.builder().setValue(key, "v", RegistryValue.dword(7)).build());
                long txns = transactionsDuring(() -> {
                    for (int i = 0; i < 10; i++) {
                        assertThat(r.getValue(key, "v").orElseThrow().value().asDword()).isEqualTo(7);
                        assertThat(r.keyExists(key)).isTrue();
                        assertThat(r.values(key)).containsKey("v");
                    }
                });
                if (consistency.equals("linearizable")) {
                    assertThat(txns).as("one barrier per read").isGreaterThanOrEqualTo(30);
                } else {
                    assertThat(txns).as("plain reads commit nothing (background writes of the registry aside)").isLessThan(30);
                }
            }
        }
    }

    @Test
    void anUnknownConsistencyIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), ZkTestSupport.freshChroot("bad"),
                ZkTestSupport.options("readConsistency", "strong")))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessage("option readConsistency of the zookeeper registry: \"strong\" is not one of [snapshot, linearizable]");
    }
}
