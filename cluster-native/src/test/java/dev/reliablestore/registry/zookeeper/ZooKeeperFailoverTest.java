package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NodeOperationRefusedException.Reason;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Administrator-initiated failover and drain on a three-server ensemble (TestingCluster, in process).
 * Each registry is a node and talks to its own server, so the target's self-check (a sync through
 * the leader, then the commit sequence its server shows) runs on a different server than the ask.
 */
class ZooKeeperFailoverTest {

    static {
        ZkTestSupport.init();
    }

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static TestingCluster cluster;
    private static final List<String> servers = new ArrayList<>();

    @BeforeAll
    static void startEnsemble() throws Exception {
        cluster = DistinctPortsCluster.of(3);
        cluster.start();
        for (InstanceSpec s : cluster.getInstances()) {
            servers.add(s.getHostname() + ":" + s.getPort());
        }
    }

    @AfterAll
    static void stopEnsemble() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ClusterRegistry node(String chroot, String name, int server, String... more) {
        List<String> kv = new ArrayList<>(List.of("nodeName", name, "nodeAffinity", "a,b,c,d", "failoverTimeout", "15000"));
        kv.addAll(List.of(more));
        return ZkTestSupport.open(servers.get(server % servers.size()), chroot, kv.toArray(String[]::new));
    }

    /**
     * Checks at once, then every 10 ms: a test waits on each view in turn, most views already agree when their
     * turn comes, and Awaitility's default first delay of 100 ms made these waits much of the class's time.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    private static void awaitPrimary(String expected, ClusterRegistry... views) {
        for (ClusterRegistry v : views) {
            await().atMost(WAIT).until(() -> v.status().primary().equals(Optional.of(expected)));
        }
    }

    @SuppressWarnings("try") // one node is closed mid-test, inside its try-with-resources, to move the role
    @Test
    void failoverToANamedNodeMovesThePrimaryThereAndEveryNodeReportsARequestedMove() {
        String chroot = ZkTestSupport.freshChroot("failover");
        try (ClusterRegistry a = node(chroot, "a", 0); ClusterRegistry b = node(chroot, "b", 1); ClusterRegistry c = node(chroot, "c", 2)) {
            awaitPrimary("a", a, b, c);
            List<MembershipEvent> seenByB = new CopyOnWriteArrayList<>();
            b.addMembershipListener(seenByB::add);

            assertThat(b.failover(Optional.of("c"))).isEqualTo("c");

            awaitPrimary("c", a, b, c);
            await().atMost(WAIT).until(() -> seenByB.contains(new MembershipEvent.PrimaryChanged("a", "c", true))
                    || seenByB.contains(new MembershipEvent.PrimaryChanged(null, "c", true)));
            assertThat(seenByB).filteredOn(e -> e instanceof MembershipEvent.PrimaryChanged)
                    .allMatch(e -> ((MembershipEvent.PrimaryChanged) e).requested());

            // the placement outranks nodeAffinity (a first) while c lives; when c goes, the cluster moves the role by itself
            c.close();
            awaitPrimary("a", a, b);
            await().atMost(WAIT).until(() -> seenByB.stream().anyMatch(e -> e instanceof MembershipEvent.PrimaryChanged p
                    && "a".equals(p.newPrimary()) && !p.requested()));
            assertThat(seenByB).doesNotContain(new MembershipEvent.PrimaryChanged("c", "a", true));
            // the placement was of c's incarnation that closed: c back (a restart) ranks by nodeAffinity, and the role stays
            try (ClusterRegistry cAgain = node(chroot, "c", 2)) {
                awaitPrimaryStays("a", a, b, cAgain);
            }

            // without a target: the most preferred other live node (the asking node a is the primary, so b)
            assertThat(a.failover(Optional.empty())).isEqualTo("b");
            awaitPrimary("b", a, b);
        }
    }

    @Test
    void aFailoverIsRefusedWithTheReasonAndNothingMovesWhenTheTargetFailsValidation() {
        String chroot = ZkTestSupport.freshChroot("failover-refused");
        try (ClusterRegistry a = node(chroot, "a", 0); ClusterRegistry b = node(chroot, "b", 1);
             ClusterRegistry sick = node(chroot, "sick", 2, "minNodes", "9")) {
            awaitPrimary("a", a, b, sick);
            assertThatThrownBy(() -> b.failover(Optional.of("nobody")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_NODE))
                    .hasMessageContaining("nobody").hasMessageContaining("[a, b, sick]");
            assertThatThrownBy(() -> b.failover(Optional.of("d")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_UP))
                    .hasMessageContaining("node d is DOWN");
            assertThatThrownBy(() -> b.failover(Optional.of("a")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ALREADY_PRIMARY));
            // only the target can judge itself: its own health check fails (3 live nodes, it wants 9)
            assertThatThrownBy(() -> b.failover(Optional.of("sick")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.UNHEALTHY);
                        assertThat(e.node()).isEqualTo("sick");
                    })
                    .hasMessageContaining("node sick is unhealthy").hasMessageContaining("3 live node(s) (minNodes 9)");
            assertThat(a.status().primary()).contains("a");
            // a refused request leaves the way clear for the next one
            assertThat(b.failover(Optional.of("b"))).isEqualTo("b");
        }
    }

    /** Waits until every view shows {@code expected} as primary, then checks that it stays there for a while. */
    private static void awaitPrimaryStays(String expected, ClusterRegistry... views) {
        awaitPrimary(expected, views);
        await().during(Duration.ofSeconds(1)).atMost(WAIT)
                .until(() -> java.util.Arrays.stream(views).allMatch(v -> v.status().primary().equals(Optional.of(expected))));
    }

    @Test
    void aPlacementOutlivesLaterRequestsThatDoNotCompleteAndEndsWhenThePlacedNodeIsDrained() {
        String chroot = ZkTestSupport.freshChroot("failover-placement");
        try (ClusterRegistry a = node(chroot, "a", 0); ClusterRegistry b = node(chroot, "b", 1); ClusterRegistry c = node(chroot, "c", 2);
             ClusterRegistry sick = node(chroot, "sick", 0, "minNodes", "9")) {
            awaitPrimary("a", a, b, c, sick);
            assertThat(b.failover(Optional.of("c"))).isEqualTo("c");
            awaitPrimary("c", a, b, c, sick);

            // a later request the target refuses replaces the request znode, not the placement: nodeAffinity
            // ranks a first, yet c keeps the role
            assertThatThrownBy(() -> b.failover(Optional.of("sick")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNHEALTHY));
            awaitPrimaryStays("c", a, b, c, sick);
            // and so does the next one, refused too
            assertThatThrownBy(() -> a.failover(Optional.of("sick")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNHEALTHY));
            awaitPrimaryStays("c", a, b, c, sick);

            // a drained node gives up its placement, also one carried by a later request: resumed, it does not take the role back
            b.drain("c");
            awaitPrimary("a", a, b, c, sick);
            b.resume("c");
            awaitPrimaryStays("a", a, b, c, sick);
        }
    }

    /**
     * A request APPROVED by its target, which then died before it led (its asker gone too), was
     * replaced by a later request that carried the approved target as a placement of any incarnation:
     * after the later request was refused, that target took the role at its next start, unasked. A
     * later request carries only the placement of the last completed move.
     */
    @Test
    void anApprovedMoveThatNeverCompletedIsNotCarriedAsAPlacementByTheNextRequest() throws Exception {
        String chroot = ZkTestSupport.freshChroot("failover-approved-dead");
        try (ClusterRegistry a = node(chroot, "a", 0); ClusterRegistry b = node(chroot, "b", 1);
             ClusterRegistry sick = node(chroot, "sick", 2, "minNodes", "9");
             org.apache.curator.framework.CuratorFramework raw = org.apache.curator.framework.CuratorFrameworkFactory.newClient(
                     servers.get(0), new org.apache.curator.retry.RetryOneTime(100))) {
            awaitPrimary("a", a, b, sick);
            raw.start();
            // what a failover to d leaves when d answered APPROVED and died before it led, and its asker is gone
            Membership.FailoverRequest approved = new Membership.FailoverRequest("0dead", "d", "a", 0,
                    Membership.FailoverRequest.State.APPROVED, null, null, null, 0);
            raw.create().creatingParentsIfNeeded().forPath(chroot + "/cluster/failover", approved.encode());
            // refused IN_PROGRESS (nothing written) until b's view holds the request it replaces
            await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> b.failover(Optional.of("sick")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNHEALTHY)));
            assertThat(Membership.FailoverRequest.parse(raw.getData().forPath(chroot + "/cluster/failover")).placed())
                    .as("the refused request carries no placement: no move completed").isNull();
            // d starts again: nodeAffinity ranks it last, and nothing placed it
            try (ClusterRegistry d = node(chroot, "d", 0)) {
                awaitPrimaryStays("a", a, b, sick, d);
            }
        }
    }

    @Test
    void aDrainedNodeGivesUpThePrimaryAndDoesNotTakeItAgainUntilResumed() {
        String chroot = ZkTestSupport.freshChroot("drain");
        try (ClusterRegistry a = node(chroot, "a", 0); ClusterRegistry c = node(chroot, "c", 2)) {
            ClusterRegistry b = node(chroot, "b", 1);
            try {
                awaitPrimary("a", a, b, c);
                List<MembershipEvent> seenByC = new CopyOnWriteArrayList<>();
                c.addMembershipListener(seenByC::add);

                c.drain("a");

                awaitPrimary("b", a, b, c);
                assertThat(c.status().nodes()).contains(new NodeInfo("a", NodeState.PAUSED));
                await().atMost(WAIT).until(() -> seenByC.contains(new MembershipEvent.NodeStateChanged("a", NodeState.UP, NodeState.PAUSED)));
                assertThat(seenByC).filteredOn(e -> e instanceof MembershipEvent.PrimaryChanged)
                        .allMatch(e -> ((MembershipEvent.PrimaryChanged) e).requested());
                assertThatThrownBy(() -> c.failover(Optional.of("a")))
                        .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.DRAINED));

                // b leaves: a ranks first in nodeAffinity but is drained, so c takes over
                b.close();
                awaitPrimary("c", a, c);

                c.resume("a");
                // resumed, a is eligible again and nodeAffinity puts it first
                awaitPrimary("a", a, c);
                assertThat(c.status().nodes()).contains(new NodeInfo("a", NodeState.UP));
                assertThatThrownBy(() -> c.resume("a"))
                        .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_DRAINED));
                c.drain("c");
                assertThatThrownBy(() -> c.drain("a"))
                        .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NO_TARGET))
                        .hasMessageContaining("no other node is up, undrained and a primary candidate to take over from a");
            } finally {
                b.close();
            }
        }
    }

    /** The port of the server a registry's connection is on, from its ZooKeeper handle ("remoteserver:host/ip:port"). */
    private static int connectedPort(ClusterRegistry registry) throws Exception {
        String handle = ((ZooKeeperRegistry) registry).curator().getZookeeperClient().getZooKeeper().toString();
        Matcher m = Pattern.compile("remoteserver:\\S*:(\\d+)").matcher(handle);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    @Test
    void drainingAZooKeeperServerMovesConnectionsOffItAndKeepsTheSession() throws Exception {
        String chroot = ZkTestSupport.freshChroot("drain-server");
        try (ClusterRegistry a = ZkTestSupport.open(String.join(",", servers), chroot, "nodeName", "a")) {
            await().atMost(WAIT).until(() -> connectedPort(a) > 0);
            int port = connectedPort(a);
            String server = servers.stream().filter(s -> s.endsWith(":" + port)).findFirst().orElseThrow();
            long session = ((ZooKeeperRegistry) a).curator().getZookeeperClient().getZooKeeper().getSessionId();

            a.drain(server);

            await().atMost(WAIT).until(() -> connectedPort(a) > 0 && !server.endsWith(":" + connectedPort(a)));
            assertThat(((ZooKeeperRegistry) a).curator().getZookeeperClient().getZooKeeper().getSessionId()).isEqualTo(session);
            assertThat(a.status().primary()).contains("a"); // the member node and the latch lived on with the session
            a.commit(WriteBatch.builder().setValue(RegistryPath.of("k"), "v", RegistryValue.dword(1)).build());

            a.resume(server);
            assertThatThrownBy(() -> a.resume(server))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_DRAINED));
            try (ClusterRegistry one = ZkTestSupport.open(servers.get(0), chroot, "nodeName", "one")) {
                assertThatThrownBy(() -> one.drain(servers.get(0)))
                        .isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NO_TARGET))
                        .hasMessageContaining("no other server to connect to once ZooKeeper server " + servers.get(0) + " is drained");
            }
        }
    }
}
