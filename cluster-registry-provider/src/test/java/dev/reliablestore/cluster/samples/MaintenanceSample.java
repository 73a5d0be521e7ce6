package dev.reliablestore.cluster.samples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.registry.NodeOperationRefusedException;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** The maintenance sample of docs/reliability.md ("Administrator-initiated failover and drain"), public API only. */
public final class MaintenanceSample {

    private MaintenanceSample() {
    }

    /**
     * Drains {@code node} for maintenance, resumes it and moves the primary back to it; returns the
     * NodeFailover events the store reports (delivered as they come) and, last, what a refused
     * failover said.
     */
    public static List<Object> maintain(StoreFactory factory, String node, String busyNode) {
        List<Object> seen = new CopyOnWriteArrayList<>();
        // sample-start
        ClusterPersistenceStore<?> store = factory.store("Order", JsonNode.class).unwrap(ClusterPersistenceStore.class);
        store.addListener(event -> {
            if (event instanceof StoreEvent.NodeFailover moved) {
                seen.add(moved); // moved.requested(): an administrator asked for it
            }
        });
        ClusterStoreAdmin admin = ClusterStoreAdmin.of(factory);
        admin.drain(node);                   // the primary role leaves node, and stays away until resumed
        // ... restart or upgrade node ...
        admin.resume(node);
        admin.failover(Optional.of(node));   // validated first: up, not drained, healthy, caught up
        try {
            admin.failover(Optional.of(busyNode));
        } catch (NodeOperationRefusedException refused) {
            seen.add(refused.reason() + ": " + refused.getMessage()); // e.g. "DRAINED: node c is drained; resume it first"
        }
        // sample-end
        return seen;
    }
}
