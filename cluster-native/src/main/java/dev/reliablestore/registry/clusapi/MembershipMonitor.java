package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Membership events from a V2 notification port: node state, group state/owner and cluster
 * membership filters wake the port's thread; it then re-reads the state (the V2 payload format is
 * unverified, so events are only triggers) and reports what differs from the last snapshot.
 */
final class MembershipMonitor implements Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(MembershipMonitor.class);

    private final ClusapiRegistry registry;
    private final MembershipListener listener;
    private final NotificationPort port;
    private ClusterStatus last;
    /** The administrator's move whose primary changes were reported already (or that predates this monitor). */
    private String reportedMove;
    /** The move whose handover is under way (the primary left its node, the target does not hold it yet). */
    private String handoverMove;

    MembershipMonitor(ClusapiRegistry registry, Cluster cluster, EventWaiter waiter, MembershipListener listener) {
        this.registry = registry;
        this.listener = listener;
        // the port first, then the snapshot: a change after the snapshot is queued in the port, not lost
        this.port = new NotificationPort(cluster, List.of(
                new long[]{ClusApiTypes.CLUSTER_OBJECT_TYPE_NODE, ClusApiTypes.CLUSTER_CHANGE_NODE_STATE_V2 | ClusApiTypes.CLUSTER_CHANGE_NODE_DELETED_V2},
                new long[]{ClusApiTypes.CLUSTER_OBJECT_TYPE_GROUP, ClusApiTypes.CLUSTER_CHANGE_GROUP_STATE_V2
                        | ClusApiTypes.CLUSTER_CHANGE_GROUP_OWNER_NODE_V2 | ClusApiTypes.CLUSTER_CHANGE_GROUP_DELETED_V2},
                new long[]{ClusApiTypes.CLUSTER_OBJECT_TYPE_CLUSTER, ClusApiTypes.CLUSTER_CHANGE_CLUSTER_RECONNECT_V2
                        | ClusApiTypes.CLUSTER_CHANGE_CLUSTER_NODE_ADDED_V2 | ClusApiTypes.CLUSTER_CHANGE_CLUSTER_MEMBERSHIP_V2
                        | ClusApiTypes.CLUSTER_CHANGE_CLUSTER_LOST_NOTIFICATIONS_V2}),
                waiter, e -> { }, this::refresh, "clusapi-membership " + registry.uri());
        try {
            this.last = registry.statusNow();
            ClusapiRegistry.AdminMove before = registry.lastAdminMove();
            this.reportedMove = before == null ? null : before.id();
        } catch (RuntimeException e) {
            port.close();
            throw e;
        }
        port.start();
    }

    private void refresh() {
        ClusterStatus now;
        try {
            // through the registry's call, which holds its handles: close() must not free them under these RPCs
            now = registry.status();
        } catch (dev.reliablestore.registry.RegistryClosedException closing) {
            return;
        } catch (RuntimeException e) {
            LOG.warn("re-reading cluster membership of {} failed", registry.uri(), e);
            return;
        }
        Map<String, NodeState> before = new HashMap<>();
        for (NodeInfo n : last.nodes()) {
            before.put(n.name(), n.state());
        }
        for (NodeInfo n : now.nodes()) {
            NodeState old = before.getOrDefault(n.name(), NodeState.UNKNOWN);
            if (old != n.state()) {
                deliver(new MembershipEvent.NodeStateChanged(n.name(), old, n.state()));
            }
        }
        String oldPrimary = last.primary().orElse(null);
        String newPrimary = now.primary().orElse(null);
        if (!Objects.equals(oldPrimary, newPrimary)) {
            deliver(new MembershipEvent.PrimaryChanged(oldPrimary, newPrimary, requested(oldPrimary, newPrimary)));
        }
        last = now;
    }

    /** Whether a primary change is (a step of) the latest administrator's move, which is then reported once. */
    private boolean requested(String oldPrimary, String newPrimary) {
        ClusapiRegistry.AdminMove move;
        try {
            move = registry.lastAdminMove();
        } catch (RuntimeException e) {
            LOG.warn("reading the administrator's latest move on {} failed; the change is reported as not requested", registry.uri(), e);
            return false;
        }
        if (move == null || move.id().equals(reportedMove) || !(move.id().equals(handoverMove) || move.startsFrom(oldPrimary))) {
            return false;
        }
        if (move.completedBy(newPrimary)) {
            reportedMove = move.id();
            handoverMove = null;
        } else {
            handoverMove = move.id();
        }
        return true;
    }

    private void deliver(MembershipEvent e) {
        try {
            listener.onEvent(e);
        } catch (Exception | Error ex) {
            // an Error too, or a checked exception thrown undeclared: thrown on, it would end the port's thread, and with it
            // every later event for this subscriber
            LOG.warn("membership listener of {} threw on {}; it stays subscribed", registry.uri(), e, ex);
        }
    }

    @Override
    public void close() {
        port.close();
        registry.forget(this);
    }
}
