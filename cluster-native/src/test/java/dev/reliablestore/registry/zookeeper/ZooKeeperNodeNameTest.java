package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.RegistryArgumentException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * A nodeName is one process's: a second live registry with the same name is refused and never touches
 * the first one's member znode, while a process restarted after a crash waits for its old session's
 * member znode to go.
 */
class ZooKeeperNodeNameTest {

    static {
        ZkTestSupport.init();
    }

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static TestingServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** A client of its own session: another process, as ZooKeeper sees it. */
    private static CuratorFramework otherProcess() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(server.getConnectString()).retryPolicy(new RetryOneTime(100)).build();
        c.start();
        assertThat(c.blockUntilConnected(10, TimeUnit.SECONDS)).isTrue();
        return c;
    }

    private static ZooKeeperRegistry open(String chroot, String nodeName, String... more) {
        String[] kv = new String[more.length + 2];
        kv[0] = "nodeName";
        kv[1] = nodeName;
        System.arraycopy(more, 0, kv, 2, more.length);
        return ZkTestSupport.open(server.getConnectString(), chroot, ZkTestSupport.options(kv));
    }

    private static long sessionOf(ZooKeeperRegistry r) throws Exception {
        return r.curator().getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static long sessionOf(CuratorFramework c) throws Exception {
        return c.getZookeeperClient().getZooKeeper().getSessionId();
    }

    private static String member(String chroot, String nodeName) {
        return chroot + "/cluster/members/" + ZnodeLayout.escape(nodeName);
    }

    /** The member znode's owner session (0 when there is none) and data, as the server has them. */
    private record Holder(long session, String data) {
    }

    private static Holder holder(CuratorFramework reader, String path) throws Exception {
        // stat and data in one read: between two reads the node may be deleted (a session expiring) or re-created
        Stat stat = new Stat();
        try {
            byte[] data = reader.getData().storingStatIn(stat).forPath(path);
            return new Holder(stat.getEphemeralOwner(), new String(data, StandardCharsets.UTF_8));
        } catch (org.apache.zookeeper.KeeperException.NoNodeException gone) {
            return new Holder(0, null);
        }
    }

    /** The znode's stat (null when there is none): an unchanged czxid and version mean nobody deleted, re-created or rewrote it. */
    private static Stat znode(CuratorFramework reader, String path) throws Exception {
        return reader.checkExists().forPath(path);
    }

    /** Creates the chroot's znodes, as a registry that was opened there before. */
    private static void layOut(String chroot) {
        open(chroot, "layout").close();
    }

    @Test
    void aSecondRegistryWithTheSameNodeNameIsRefusedAndTheFirstKeepsItsMemberNode() throws Exception {
        String chroot = ZkTestSupport.freshChroot("same-name");
        String path = member(chroot, "dup");
        try (ZooKeeperRegistry first = open(chroot, "dup"); CuratorFramework reader = otherProcess()) {
            long firstSession = sessionOf(first);
            assertThat(holder(reader, path)).isEqualTo(new Holder(firstSession, "dup"));
            Stat before = znode(reader, path);

            // a short sessionTimeout: the second waits that long (and a margin) in case the node was a crashed process's
            AtomicReference<ZooKeeperRegistry> second = new AtomicReference<>();
            Throwable refused = catchThrowable(() -> second.set(open(chroot, "dup", "sessionTimeout", "1s")));
            if (second.get() != null) {
                second.get().close(); // it opened (the defect): its close must still not delete the first's node
            }

            assertThat(holder(reader, path)).as("the first registry's member znode, data and owner").isEqualTo(new Holder(firstSession, "dup"));
            assertThat(znode(reader, path)).as("the first registry's member znode was neither re-created nor rewritten").isEqualTo(before);
            assertThat(refused).isInstanceOf(RegistryArgumentException.class).isInstanceOfSatisfying(ZooKeeperNodeNameInUseException.class, e -> {
                assertThat(e.nodeName()).isEqualTo("dup");
                assertThat(e.chroot()).isEqualTo(chroot);
                assertThat(e.ownerSessionId()).isEqualTo(firstSession);
            }).hasMessageContaining("nodeName \"dup\"").hasMessageContaining(chroot)
                    .hasMessageContaining("0x" + Long.toHexString(firstSession)).hasMessageContaining("another open registry")
                    .hasMessageContaining("unique nodeName");
            assertThat(first.status().nodes()).contains(new NodeInfo("dup", NodeState.UP));
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> before.equals(znode(reader, path)));
        }
    }

    @Test
    void aSecondRegistryOfThisProcessIsRefusedWithoutWaitingForTheCrashBound() throws Exception {
        String chroot = ZkTestSupport.freshChroot("same-name-same-process");
        try (ZooKeeperRegistry first = open(chroot, "twice")) {
            long firstSession = sessionOf(first);
            // the default sessionTimeout (10 s): a holder in another process would be waited for 16 s, one in this
            // process is known to be live
            CompletableFuture<ZooKeeperRegistry> second = CompletableFuture.supplyAsync(() -> open(chroot, "twice"));
            await().atMost(Duration.ofSeconds(8)).until(second::isDone);
            assertThat(second).isCompletedExceptionally();
            assertThat(catchThrowable(second::join)).cause().isInstanceOfSatisfying(ZooKeeperNodeNameInUseException.class,
                    e -> assertThat(e.ownerSessionId()).isEqualTo(firstSession))
                    .hasMessageContaining("another open registry of this process").hasMessageContaining("Persistence.openFactory");
            assertThat(first.status().nodes()).contains(new NodeInfo("twice", NodeState.UP));
        }
        // closed, the name is free for this process again
        open(chroot, "twice").close();
    }

    @Test
    void theSameNodeNameOpensAtOnceAfterTheFirstRegistryClosed() throws Exception {
        String chroot = ZkTestSupport.freshChroot("same-name-after-close");
        String path = member(chroot, "again");
        try (CuratorFramework reader = otherProcess()) {
            long firstSession;
            try (ZooKeeperRegistry first = open(chroot, "again")) {
                firstSession = sessionOf(first);
            }
            assertThat(holder(reader, path)).as("close() deletes its own member znode").isEqualTo(new Holder(0, null));
            long started = System.nanoTime();
            try (ZooKeeperRegistry reopened = open(chroot, "again")) {
                // the default sessionTimeout is 10 s: no waiting for an expiry
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
                assertThat(sessionOf(reopened)).isNotEqualTo(firstSession);
                assertThat(holder(reader, path)).isEqualTo(new Holder(sessionOf(reopened), "again"));
                assertThat(reopened.status().nodes()).contains(new NodeInfo("again", NodeState.UP));
            }
        }
    }

    @Test
    void aRestartWithinTheSessionTimeoutWaitsForTheCrashedSessionsMemberNodeToGo() throws Exception {
        String chroot = ZkTestSupport.freshChroot("crash-restart");
        String path = member(chroot, "crashy");
        layOut(chroot);
        CompletableFuture<ZooKeeperRegistry> restart = null;
        try (CuratorFramework reader = otherProcess()) {
            CuratorFramework crashed = otherProcess(); // the process that was killed: its session still holds the name
            try {
                crashed.create().withMode(CreateMode.EPHEMERAL).forPath(path, "crashy".getBytes(StandardCharsets.UTF_8));
                restart = CompletableFuture.supplyAsync(() -> open(chroot, "crashy", "sessionTimeout", "2s"));
                CompletableFuture<ZooKeeperRegistry> opening = restart;
                // it neither fails nor takes the node over while the old session holds it
                await("the restart still waiting for the crashed session's member znode").during(Duration.ofMillis(500)).atMost(WAIT)
                        .until(() -> !opening.isDone());
                assertThat(holder(reader, path)).isEqualTo(new Holder(sessionOf(crashed), "crashy"));
            } finally {
                crashed.close(); // the server ends the old session (as it does once sessionTimeout passed)
            }
            ZooKeeperRegistry restarted = restart.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(holder(reader, path)).isEqualTo(new Holder(sessionOf(restarted), "crashy"));
            assertThat(restarted.status().nodes()).contains(new NodeInfo("crashy", NodeState.UP));
        } finally {
            if (restart != null) {
                restart.handle((r, e) -> {
                    if (r != null) {
                        r.close();
                    }
                    return null;
                }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    @Test
    void aMemberNodeHeldPastTheSessionTimeoutAndItsMarginIsRefused() throws Exception {
        String chroot = ZkTestSupport.freshChroot("held-name");
        String path = member(chroot, "held");
        layOut(chroot);
        try (CuratorFramework holderProcess = otherProcess(); CuratorFramework reader = otherProcess()) {
            holderProcess.create().withMode(CreateMode.EPHEMERAL).forPath(path, "held".getBytes(StandardCharsets.UTF_8));
            long owner = sessionOf(holderProcess);
            long started = System.nanoTime();
            assertThatThrownBy(() -> open(chroot, "held", "sessionTimeout", "1s").close())
                    .isInstanceOfSatisfying(ZooKeeperNodeNameInUseException.class, e -> assertThat(e.ownerSessionId()).isEqualTo(owner))
                    .hasMessageContaining("nodeName \"held\"").hasMessageContaining(chroot).hasMessageContaining("0x" + Long.toHexString(owner));
            // it waited for as long as a crashed process's session could have held the node
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(holder(reader, path)).isEqualTo(new Holder(owner, "held"));
        }
    }

    @Test
    void afterASessionExpiryTheMemberNodeComesBackButNeverTakesOverAnotherSessionsNode() throws Exception {
        String chroot = ZkTestSupport.freshChroot("expiry-name");
        String path = member(chroot, "x");
        ZooKeeperRegistry a = open(chroot, "x", "sessionTimeout", "1s");
        try (CuratorFramework reader = otherProcess()) {
            long oldSession = sessionOf(a);
            assertThat(holder(reader, path)).isEqualTo(new Holder(oldSession, "x"));

            // the client's session expires (the server's copy lives on until its timeout); a new one re-creates the node
            a.curator().getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
            await().atMost(WAIT).until(() -> {
                long now = sessionOf(a);
                return now != oldSession && holder(reader, path).equals(new Holder(now, "x"));
            });

            // another process holds the name now: a's re-creation must leave its node alone
            CuratorFramework other = otherProcess();
            try {
                await().atMost(WAIT).until(() -> takeOver(other, path, "x-other"));
                long otherSession = sessionOf(other);
                await("the other session's member znode left alone").during(Duration.ofMillis(1500)).atMost(WAIT)
                        .until(() -> holder(reader, path).equals(new Holder(otherSession, "x-other")));
                // without its member znode, a is not a member: it leaves the primary election
                await("a leaves the election").atMost(WAIT).until(() -> a.status().primary().isEmpty());
            } finally {
                other.close();
            }
            // once it is free again, a registers again, and leads again
            await().atMost(WAIT).until(() -> holder(reader, path).equals(new Holder(sessionOf(a), "x")));
            await("a leads again").atMost(WAIT).until(() -> a.status().primary().equals(java.util.Optional.of("x")));

            // a closing while another session holds the name leaves that node alone
            CuratorFramework third = otherProcess();
            try {
                await().atMost(WAIT).until(() -> takeOver(third, path, "x-third"));
                long thirdSession = sessionOf(third);
                a.close();
                assertThat(holder(reader, path)).isEqualTo(new Holder(thirdSession, "x-third"));
            } finally {
                third.close();
            }
        } finally {
            a.close();
        }
    }

    /** Replaces the member znode, whoever holds it, with one of {@code by}'s session in one step; false when there was none. */
    private static boolean takeOver(CuratorFramework by, String path, String data) throws Exception {
        try {
            by.getZookeeperClient().getZooKeeper().multi(List.of(Op.delete(path, -1),
                    Op.create(path, data.getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL)));
            return true;
        } catch (KeeperException.NoNodeException absent) {
            return false;
        }
    }
}
