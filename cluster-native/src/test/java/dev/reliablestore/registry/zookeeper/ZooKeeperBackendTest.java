package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The ZooKeeper-specific parts: znode mapping, options, ACLs, limits, membership, minimum nodes, resync. */
class ZooKeeperBackendTest {

    static {
        ZkTestSupport.init();
    }

    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static CuratorFramework raw(String digest) {
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder().connectString(server.getConnectString()).retryPolicy(new RetryOneTime(100));
        if (digest != null) {
            b.authorization("digest", digest.getBytes());
        }
        CuratorFramework c = b.build();
        c.start();
        return c;
    }

    // ---- mapping ------------------------------------------------------------------------------------

    @Test
    void keysAndValuesMapToEscapedZnodesAndTheRevisionComesFromTheMzxid() throws Exception {
        String chroot = ZkTestSupport.freshChroot("mapping");
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot);
             CuratorFramework zk = raw(null)) {
            CommitResult c = r.commit(WriteBatch.builder()
                    .setValue(RegistryPath.of("Entities", "a=b", ".."), "50%", RegistryValue.dword(7))
                    .setValue(RegistryPath.of("Entities"), "emoji\uD83D\uDE00", RegistryValue.sz("x")).build());
            String key = chroot + "/data/Entities/a%003Db/%002E%002E";
            assertThat(zk.getChildren().forPath(chroot + "/data/Entities")).containsExactlyInAnyOrder("a%003Db", "=emoji%D83D%DE00");
            Stat stat = new Stat();
            byte[] stored = zk.getData().storingStatIn(stat).forPath(key + "/=50%0025");
            assertThat(stored).containsExactly(1, 4, 7, 0, 0, 0); // format, REG_DWORD, little-endian 7
            // a batch alone in its multi: the sequence is the zxid with a zero batch index below it
            assertThat(stat.getMzxid() << ZnodeLayout.SUB_BITS).isEqualTo(c.sequence());
            assertThat(zk.getData().forPath(key)).isEmpty();
            assertThat(r.subkeys(RegistryPath.of("Entities", "a=b"))).containsExactly("..");
            assertThat(ZnodeLayout.unescape(ZnodeLayout.escape("%=.\uD83D\uDE00\uFFF5"))).isEqualTo("%=.\uD83D\uDE00\uFFF5");
        }
    }

    @Test
    void aValueDeletedAndRecreatedBetweenReadAndCommitFailsTheRevisionCondition() throws Exception {
        String chroot = ZkTestSupport.freshChroot("incarnation");
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot);
             ClusterRegistry other = ZkTestSupport.open(server.getConnectString(), chroot)) {
            RegistryPath k = RegistryPath.of("k");
            long rev = r.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build()).sequence();
            // another client deletes and re-creates the value: same znode version (0), new incarnation
            other.commit(WriteBatch.builder().deleteValue(k, "v").build());
            other.commit(WriteBatch.builder().setValue(k, "v", RegistryValue.dword(1)).build());
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().requireRevision(k, "v", rev).setValue(k, "w", RegistryValue.dword(2)).build()))
                    .isInstanceOf(dev.reliablestore.registry.ConditionFailedException.class);
            assertThat(r.getValue(k, "w")).isEmpty();
        }
    }

    /**
     * A change-log bucket that cannot be created (here the log's key was removed by hand) is no race to re-plan: the
     * commit fails at once naming it, nothing sent, instead of retrying as contention until failoverTimeout and
     * then calling a permanent cause retryable.
     */
    @Test
    void aChangeLogBucketThatCannotBeCreatedFailsTheCommitNamingIt() throws Exception {
        String chroot = ZkTestSupport.freshChroot("nolog");
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot);
             CuratorFramework zk = raw(null)) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build());
            zk.delete().deletingChildrenIfNeeded().forPath(chroot + "/log");
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(2)).build()))
                    .isExactlyInstanceOf(dev.reliablestore.registry.RegistryException.class)
                    .hasMessageContaining("cannot create the change-log bucket " + chroot + "/log/")
                    .hasMessageContaining("NONODE").hasMessageContaining("nothing of the batch was sent");
            assertThat(r.getValue(RegistryPath.of("k"), "v").orElseThrow().value().asDword()).isEqualTo(1);
        }
    }

    // ---- options -------------------------------------------------------------------------------------

    /**
     * A batch of conditions alone answers with its snapshot's sequence; a server behind one this instance
     * heard from (a new local session on a lagging follower) would give a smaller one than a batch it
     * committed before, which the contract forbids. Simulated by raising what the instance has seen.
     */
    @Test
    void aBatchOfConditionsAloneNeverAnswersASequenceBelowOneThisInstanceSaw() throws Exception {
        String chroot = ZkTestSupport.freshChroot("conditions-sequence");
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot)) {
            long committed = r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build()).sequence();
            java.lang.reflect.Field seen = ZooKeeperRegistry.class.getDeclaredField("lastSequence");
            seen.setAccessible(true);
            long ahead = committed + (1L << 20);
            ((java.util.concurrent.atomic.AtomicLong) seen.get(r)).set(ahead);
            assertThat(r.commit(WriteBatch.builder().requireValueExists(RegistryPath.of("k"), "v").build()).sequence())
                    .as("a batch that only checks").isGreaterThanOrEqualTo(ahead);
            assertThat(r.commit(WriteBatch.builder().requireKeyExists(RegistryPath.of("k")).requireValueExists(RegistryPath.of("k"), "v").build())
                    .sequence()).as("a batch that only checks, sent as a multi").isGreaterThanOrEqualTo(ahead);
        }
    }

    @Test
    void unknownOrBadOptionsAreRefusedClearly() throws Exception {
        ZooKeeperRegistryBackend backend = new ZooKeeperRegistryBackend();
        String base = "zookeeper://" + server.getConnectString() + "/opts";
        assertThatThrownBy(() -> backend.open(URI.create(base + "?sessionTimout=5000"), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("sessionTimout").hasMessageContaining("sessionTimeout");
        assertThatThrownBy(() -> backend.open(URI.create(base), Map.of("colour", "blue")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("colour");
        assertThatThrownBy(() -> backend.open(URI.create(base + "?minNodes=0"), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("minNodes").hasMessageContaining("1 .. 1000");
        assertThatThrownBy(() -> backend.open(URI.create(base), Map.of("failoverTimeout", "soon")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("soon");
        assertThatThrownBy(() -> backend.open(URI.create("zookeeper://" + server.getConnectString()), Map.of()))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("chroot");
        assertThatThrownBy(() -> backend.open(URI.create(base), Map.of("digest", "nocolon")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("user:password").hasMessageNotContaining("nocolon");
        java.nio.file.Path trustFile = java.nio.file.Files.createTempFile("trust", ".p12");
        trustFile.toFile().deleteOnExit();
        String trustStore = trustFile.toString();
        assertThatThrownBy(() -> backend.open(URI.create(base), Map.of("tlsTrustStore", trustStore)))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("tls=true");
        assertThatThrownBy(() -> backend.open(URI.create(base), Map.of("tls", "true", "tlsTrustStore", "/no/such/file")))
                .isInstanceOf(RegistryArgumentException.class).hasMessageContaining("/no/such/file");
    }

    // ---- security ------------------------------------------------------------------------------------

    @Test
    void aDigestProtectedChrootIsClosedToClientsWithoutTheCredentials() throws Exception {
        String chroot = ZkTestSupport.freshChroot("secure");
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "digest", "app:s3cret")) {
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.sz("secret")).build());
            assertThat(r.uri()).doesNotContain("s3cret");
            try (CuratorFramework anonymous = raw(null); CuratorFramework wrong = raw("app:wrong")) {
                for (CuratorFramework c : List.of(anonymous, wrong)) {
                    assertThatThrownBy(() -> c.getData().forPath(chroot + "/data/k/=v")).isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.getChildren().forPath(chroot + "/data")).isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.setData().forPath(chroot + "/data/k/=v", new byte[] {1})).isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.create().forPath(chroot + "/data/intruder")).isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.delete().forPath(chroot + "/seq")).isInstanceOf(KeeperException.class);
                }
            }
            // a registry without (or with wrong) credentials cannot open it, and says why without echoing secrets
            assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot))
                    .isInstanceOf(RegistryException.class).hasMessageContaining("not authorized").hasMessageContaining("digest");
            assertThatThrownBy(() -> ZkTestSupport.open(server.getConnectString(), chroot, "digest", "app:wrong"))
                    .isInstanceOf(RegistryException.class).hasMessageContaining("not authorized").hasMessageNotContaining("wrong");
            assertThat(r.getValue(RegistryPath.of("k"), "v").orElseThrow().value().asSz()).isEqualTo("secret");
        }
    }

    // ---- limits --------------------------------------------------------------------------------------

    @Test
    void limitsFollowMaxRequestBytesAndOversizedRequestsAreRefusedBeforeSending() throws Exception {
        String chroot = ZkTestSupport.freshChroot("limits");
        // the ZooKeeper default jute.maxbuffer: a value travels twice, so half of it minus the reserve
        try (ClusterRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, "maxRequestBytes", String.valueOf(0xfffff))) {
            int batchBytes = (0xfffff - ZooKeeperRegistry.REQUEST_RESERVE) / 2;
            int expected = batchBytes - 2 * (RegistryPath.MAX_PATH_LENGTH + RegistryPath.MAX_SEGMENT_LENGTH) - WriteBatch.COMMAND_OVERHEAD;
            assertThat(r.limits().maxValueSize()).isEqualTo(expected);
            assertThat(r.limits().maxBatchBytes()).isEqualTo(batchBytes);
            long before = r.currentSequence();
            assertThatThrownBy(() -> r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.binary(new byte[expected + 1])).build()))
                    .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                        assertThat(e.size()).isEqualTo(expected + 1);
                        assertThat(e.limit()).isEqualTo(expected);
                    }).hasMessageContaining(String.valueOf(expected));
            r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.binary(new byte[expected])).build());
            assertThat(r.getValue(RegistryPath.of("k"), "v").orElseThrow().value().size()).isEqualTo(expected);

            // a DeleteKey expands to one delete per znode: the exact request size is checked after planning
            for (int b = 0; b < 5; b++) {
                WriteBatch.Builder some = WriteBatch.builder();
                for (int i = 0; i < 800; i++) {
                    some.createKey(RegistryPath.of("wide", "k" + "x".repeat(240) + (b * 1000 + i)));
                }
                r.commit(some.build());
            }
            long afterSetUp = r.currentSequence();
            RegistryLimitException tooBig = org.assertj.core.api.Assertions.catchThrowableOfType(RegistryLimitException.class,
                    () -> r.commit(WriteBatch.builder().deleteKey(RegistryPath.of("wide")).build()));
            assertThat(tooBig).isNotNull();
            assertThat(tooBig.limit()).isEqualTo(0xfffff);
            assertThat(tooBig.size()).isGreaterThan(0xfffff);
            assertThat(tooBig.getMessage()).contains(String.valueOf(tooBig.size())).contains("nothing was sent");
            assertThat(r.subkeys(RegistryPath.of("wide"))).hasSize(4000);
            assertThat(r.currentSequence()).isEqualTo(afterSetUp).isGreaterThan(before);
        }
        // the smallest maxRequestBytes for 1 MiB values, as docs/zookeeper-backend.md gives it
        try (ClusterRegistry enough = ZkTestSupport.open(server.getConnectString(), chroot, "maxRequestBytes", "2118684");
             ClusterRegistry oneShort = ZkTestSupport.open(server.getConnectString(), chroot, "maxRequestBytes", "2118683")) {
            assertThat(enough.limits().maxValueSize()).isEqualTo(RegistryValue.MAX_SIZE);
            assertThat(oneShort.limits().maxValueSize()).isEqualTo(RegistryValue.MAX_SIZE - 1);
        }
    }

    // ---- membership -----------------------------------------------------------------------------------

    @Test
    void thePrimaryFollowsNodeAffinityAndMovesWhenNodesComeAndGo() throws Exception {
        String chroot = ZkTestSupport.freshChroot("affinity");
        String affinity = "node-b,node-a";
        ClusterRegistry a = ZkTestSupport.open(server.getConnectString(), chroot, "nodeName", "node-a", "nodeAffinity", affinity);
        ClusterRegistry c = ZkTestSupport.open(server.getConnectString(), chroot, "nodeName", "node-c", "nodeAffinity", affinity);
        ClusterRegistry b = null;
        try {
            // while the first nodes start, a node that does not yet see the others may lead for a moment
            await().atMost(Duration.ofSeconds(10)).until(() -> c.status().primary().orElse("").equals("node-a"));
            List<MembershipEvent> seenByC = new CopyOnWriteArrayList<>();
            c.addMembershipListener(seenByC::add);
            b = ZkTestSupport.open(server.getConnectString(), chroot, "nodeName", "node-b", "nodeAffinity", affinity);
            await().atMost(Duration.ofSeconds(10)).until(() -> c.status().primary().orElse("").equals("node-b"));
            assertThat(a.status().liveNodes()).isEqualTo(3);
            b.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> c.status().primary().orElse("").equals("node-a"));
            // leadership went a -> b -> a; node-c, in no list, never led (observers may see a moment without a primary)
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(seenByC.stream()
                    .filter(e -> e instanceof MembershipEvent.PrimaryChanged pc && pc.newPrimary() != null)
                    .map(e -> ((MembershipEvent.PrimaryChanged) e).newPrimary()).toList()).containsExactly("node-b", "node-a"));
            assertThat(seenByC).contains(new MembershipEvent.NodeStateChanged("node-b", dev.reliablestore.registry.NodeState.UP,
                    dev.reliablestore.registry.NodeState.DOWN));
            assertThat(c.status().nodes()).contains(new dev.reliablestore.registry.NodeInfo("node-b", dev.reliablestore.registry.NodeState.DOWN));
        } finally {
            a.close();
            c.close();
            if (b != null) {
                b.close();
            }
        }
    }

    @Test
    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    void writesAreRefusedWhileFewerThanMinNodesAreLive() throws Exception {
        String chroot = ZkTestSupport.freshChroot("min-nodes");
        WriteBatch write = WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build();
        try (ClusterRegistry first = ZkTestSupport.open(server.getConnectString(), chroot, "nodeName", "one", "minNodes", "2")) {
            assertThatThrownBy(() -> first.commit(write)).isInstanceOfSatisfying(RegistryUnavailableException.class,
                    e -> assertThat(e.outcomeUnknown()).isFalse()).hasMessageContaining("minNodes=2").hasMessageContaining("[one]");
            assertThat(first.checkHealth().healthy()).isFalse();
            assertThat(first.checkHealth().detail()).contains("too few live nodes")
                    .as("the same failure reads the same (a reason is reported once while it lasts)").isEqualTo(first.checkHealth().detail());
            assertThat(first.keyExists(RegistryPath.of("k"))).isFalse();
            try (ClusterRegistry second = ZkTestSupport.open(server.getConnectString(), chroot, "nodeName", "two", "minNodes", "2")) {
                await().atMost(Duration.ofSeconds(10)).until(() -> first.status().liveNodes() == 2);
                first.commit(write);
                assertThat(first.checkHealth().healthy()).isTrue();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> first.status().liveNodes() == 1);
            assertThatThrownBy(() -> first.commit(write)).isInstanceOf(RegistryUnavailableException.class);
        }
    }

    // ---- the feed after a session loss ------------------------------------------------------------------

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void aSessionExpiryResynchronisesWatchesAndTheFeedContinues() throws Exception {
        String chroot = ZkTestSupport.freshChroot("expiry");
        try (ZooKeeperRegistry r = ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options("sessionTimeout", "3000ms"))) {
            List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
            List<String> resyncs = new CopyOnWriteArrayList<>();
            try (Watch w = r.watch(RegistryPath.root(), new ChangeListener() {
                @Override
                public void onBatch(ChangeBatch batch) {
                    batches.add(batch);
                }

                @Override
                public void onResync(String reason) {
                    resyncs.add(reason);
                }
            })) {
                r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build());
                await().atMost(Duration.ofSeconds(10)).until(() -> batches.size() == 1);
                r.curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
                await().atMost(Duration.ofSeconds(20)).until(() -> !resyncs.isEmpty());
                assertThat(resyncs.get(0)).contains("session");
                long s = r.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(2)).build()).sequence();
                await().atMost(Duration.ofSeconds(10)).until(() -> batches.stream().anyMatch(b -> b.sequence() == s));
                // membership came back on the new session too
                await().atMost(Duration.ofSeconds(10)).until(() -> r.status().liveNodes() == 1 && r.status().primary().isPresent());
            }
        }
    }
}
