package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NodeOperationRefusedException.Reason;
import dev.reliablestore.registry.NodeState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ClusterNodeDown;
import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ClusterNodeUp;
import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ERROR_CLUSTER_GROUP_MOVING;
import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ERROR_CLUSTER_NODE_DOWN;
import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS;
import static dev.reliablestore.registry.clusapi.jna.ClusApiTypes.ERROR_CLUSTER_NODE_NOT_PAUSED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Administrator-initiated failover (MoveClusterGroup of the registry's group), drain
 * (PauseClusterNodeEx with drain) and resume (ResumeClusterNodeEx) on the fake clusapi.dll, which
 * implements their documented return codes.
 */
class ClusapiFailoverTest {

    private final FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3");
    private final ClusterRegistry registry = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"),
            Map.of("localNode", "NODE1", "failoverTimeout", "300")), new ClusapiNatives(fake, fake, fake, fake.waiter()));
    private final List<MembershipEvent> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        registry.close();
        assertThat(fake.openHandles()).as("native handles left open").isZero();
    }

    private static void assertRefused(Throwable t, Reason reason, String node) {
        assertThat(t).isInstanceOfSatisfying(NodeOperationRefusedException.class, e -> {
            assertThat(e.reason()).isEqualTo(reason);
            assertThat(e.node()).isEqualTo(node);
        });
    }

    private static Optional<Integer> win32Code(Throwable t) {
        return t.getCause() instanceof ClusterApiException c ? Optional.of(c.code()) : Optional.empty();
    }

    @Test
    void failoverMovesTheGroupAndEveryRegistryReportsARequestedMoveUnlikeAMoveTheClusterMakesItself() {
        List<MembershipEvent> onNode3 = new CopyOnWriteArrayList<>();
        try (ClusterRegistry other = ClusapiRegistry.open(ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/RS"),
                Map.of("localNode", "NODE3")), new ClusapiNatives(fake, fake, fake, fake.waiter()))) {
            registry.addMembershipListener(events::add);
            other.addMembershipListener(onNode3::add);
            assertThat(registry.failover(Optional.of("NODE2"))).isEqualTo("NODE2");
            assertThat(registry.status().primary()).contains("NODE2");
            for (List<MembershipEvent> seen : List.of(events, onNode3)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(new MembershipEvent.PrimaryChanged("NODE1", "NODE2", true)));
            }

            fake.setNodeState("NODE2", ClusterNodeDown); // the cluster fails the group over to NODE1 by itself
            for (List<MembershipEvent> seen : List.of(events, onNode3)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(new MembershipEvent.PrimaryChanged("NODE2", "NODE1", false)));
            }
        }

        // without a target: the first other node that is up
        assertThat(registry.failover(Optional.empty())).isEqualTo("NODE3");
    }

    @Test
    void aFailoverToANodeThatIsNotUpOrIsThePrimaryIsRefusedAndNothingMoves() {
        fake.setNodeState("NODE3", ClusterNodeDown);
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE9"))).satisfies(t -> assertRefused(t, Reason.UNKNOWN_NODE, "NODE9"))
                .hasMessageContaining("NODE9 is not a node of cluster");
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE3"))).satisfies(t -> assertRefused(t, Reason.NOT_UP, "NODE3"))
                .hasMessageContaining("NODE3 is DOWN, not UP");
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE1"))).satisfies(t -> assertRefused(t, Reason.ALREADY_PRIMARY, "NODE1"));
        registry.drain("NODE2");
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE2"))).satisfies(t -> assertRefused(t, Reason.DRAINED, "NODE2"))
                .hasMessageContaining("NODE2 is PAUSED");
        assertThatThrownBy(() -> registry.failover(Optional.empty())).satisfies(t -> assertRefused(t, Reason.NO_TARGET, null));
        assertThat(registry.status().primary()).contains("NODE1");
    }

    @Test
    void aDrainedPrimaryHandsTheGroupOverAndTakesNothingUntilResumed() {
        registry.addMembershipListener(events::add);
        registry.drain("NODE1");
        assertThat(registry.status().primary()).hasValueSatisfying(p -> assertThat(p).isNotEqualTo("NODE1"));
        assertThat(registry.status().nodes()).contains(new NodeInfo("NODE1", NodeState.PAUSED));
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e instanceof MembershipEvent.PrimaryChanged p
                && "NODE1".equals(p.oldPrimary()) && p.requested()));

        fake.setNodeState("NODE3", ClusterNodeDown);
        // NODE2 holds the group; the only other node is paused, so the DLL refuses: ERROR_CLUSTER_NODE_DOWN
        assertThatThrownBy(() -> registry.drain("NODE2")).satisfies(t -> {
            assertRefused(t, Reason.NO_TARGET, "NODE2");
            assertThat(win32Code(t)).contains(ERROR_CLUSTER_NODE_DOWN);
        });

        assertThat(((ClusapiRegistry) registry).lastAdminMove()).as("the refused drain leaves no record of a move")
                .satisfiesAnyOf(m -> assertThat(m).isNull(), m -> assertThat(m.startsFrom("NODE2")).isFalse());

        // a node the DLL cannot open (OpenClusterNode fails before the drain is asked): no record of a move either
        ClusapiRegistry.AdminMove before = ((ClusapiRegistry) registry).lastAdminMove();
        assertThatThrownBy(() -> registry.drain("NODE9")).satisfies(t -> assertRefused(t, Reason.UNKNOWN_NODE, "NODE9"));
        assertThat(((ClusapiRegistry) registry).lastAdminMove()).as("the refused drain of an unknown node leaves no record of a move")
                .isEqualTo(before);

        registry.resume("NODE1");
        assertThat(registry.status().nodes()).contains(new NodeInfo("NODE1", NodeState.UP));
        assertThat(registry.status().primary()).contains("NODE2"); // resume without failback
        fake.setNodeState("NODE2", ClusterNodeDown); // the cluster moves the group by itself: not the refused drain
        await().atMost(Duration.ofSeconds(10)).until(() -> events.contains(new MembershipEvent.PrimaryChanged("NODE2", "NODE1", false)));
        assertThat(events).doesNotContain(new MembershipEvent.PrimaryChanged("NODE2", "NODE1", true));
        fake.setNodeState("NODE2", ClusterNodeUp);
        assertThatThrownBy(() -> registry.resume("NODE1")).satisfies(t -> {
            assertRefused(t, Reason.NOT_DRAINED, "NODE1");
            assertThat(win32Code(t)).contains(ERROR_CLUSTER_NODE_NOT_PAUSED);
        });
        assertThatThrownBy(() -> registry.resume("NODE9")).satisfies(t -> assertRefused(t, Reason.UNKNOWN_NODE, "NODE9"));
    }

    @Test
    void aMoveThatDoesNotCompleteInTimeIsReportedAndASecondMoveMeanwhileIsRefused() {
        fake.holdMoves(true);
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE2"))).satisfies(t -> assertRefused(t, Reason.TIMED_OUT, "NODE2"))
                .hasMessageContaining("group Cluster Group is not online on NODE2 after 300 ms");
        assertThatThrownBy(() -> registry.failover(Optional.of("NODE3"))).satisfies(t -> {
            assertRefused(t, Reason.IN_PROGRESS, "NODE3");
            assertThat(win32Code(t)).contains(ERROR_CLUSTER_GROUP_MOVING);
        });
        fake.completeMoves();
        assertThat(registry.status().primary()).contains("NODE2");

        assertThatThrownBy(() -> registry.drain("NODE2")).satisfies(t -> assertRefused(t, Reason.TIMED_OUT, "NODE2"));
        assertThatThrownBy(() -> registry.drain("NODE2")).satisfies(t -> {
            assertRefused(t, Reason.IN_PROGRESS, "NODE2");
            assertThat(win32Code(t)).contains(ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS);
        });
        fake.holdMoves(false);
        fake.completeMoves();
        assertThat(registry.status().primary()).hasValueSatisfying(p -> assertThat(p).isNotEqualTo("NODE2"));
    }
}
