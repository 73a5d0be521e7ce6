package dev.reliablestore.spring.boot;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.registry.ClusterStatus;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The provider's own periodic health check (every {@code healthCheckInterval}), as reported by its
 * {@link StoreEvent}s: DOWN from a {@code HealthCheckFailed} until {@code HealthRestored}, as the store
 * beans of the reported factory tell it (another factory's are another health). A provider whose
 * stores report no events (memory, file), or a context without {@code EntityStore} beans of that
 * factory, gives UNKNOWN rather than an UP nobody checked. For the cluster-registry provider the details
 * also name the backend, this node, the primary and every node's state, read from the registry at
 * each check; a registry that cannot answer is DOWN.
 */
final class StoreHealthIndicator extends AbstractHealthIndicator {

    private final StoreFactory factory;
    private final StoreEventBridge events;
    private final ClusterStoreAdmin admin;

    StoreHealthIndicator(StoreFactory factory, StoreEventBridge events) {
        super("ReliableStore health check failed");
        this.factory = factory;
        this.events = events;
        this.admin = clusterAdmin(factory);
    }

    /** The cluster-registry view of {@code factory} (also under the JTA wrapper); null for other providers. */
    private static ClusterStoreAdmin clusterAdmin(StoreFactory factory) {
        StoreFactory provider = factory instanceof JtaStoreFactory jta ? jta.delegate() : factory;
        try {
            return ClusterStoreAdmin.of(provider);
        } catch (IllegalArgumentException notCluster) {
            return null;
        }
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("provider", factory.providerName());
        StoreEventBridge.Observed observed = events.of(factory);
        if (observed == null) {
            // no health-check events to follow; a registry that cannot say who its nodes are is down all the same
            String statusProblem = clusterStatus(builder);
            if (statusProblem != null) {
                builder.down().withDetail("reason", "the cluster status cannot be read: " + statusProblem);
                return;
            }
            builder.unknown().withDetail("reason", "no EntityStore bean of this StoreFactory reports store events (none declared,"
                    + " the provider has no health checks, or, with several StoreFactory beans, none was made from this one"
                    + " as far as its bean method shows)");
            return;
        }
        builder.withDetail("observedStores", observed.stores());
        StoreEvent.NodeFailover failover = observed.failover();
        if (failover != null) {
            builder.withDetail("lastFailover", failover.time() + " to " + failover.newNode());
        }
        StoreEvent.HealthCheckFailed failure = observed.failure();
        String statusProblem = clusterStatus(builder);
        if (failure != null) {
            builder.down().withDetail("reason", failure.reason()).withDetail("since", failure.time().toString());
        } else if (statusProblem != null) {
            // a registry that cannot say who its nodes are cannot serve the stores either
            builder.down().withDetail("reason", "the cluster status cannot be read: " + statusProblem);
        } else {
            builder.up();
        }
    }

    /** Adds the cluster-registry's view of its nodes; the reason it could not be read, or null. */
    private String clusterStatus(Health.Builder builder) {
        if (admin == null) {
            return null;
        }
        try {
            ClusterStatus status = admin.status();
            Map<String, String> nodes = new LinkedHashMap<>();
            status.nodes().forEach(n -> nodes.put(n.name(), n.state().name()));
            builder.withDetail("backend", status.backend()).withDetail("localNode", status.localNode())
                    .withDetail("primary", status.primary().orElse("none")).withDetail("nodes", nodes);
            return null;
        } catch (RuntimeException unavailable) {
            return String.valueOf(unavailable.getMessage());
        }
    }
}
