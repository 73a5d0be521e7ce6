package dev.reliablestore.spring.boot;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;

/**
 * The provider's own periodic health check (every {@code healthCheckInterval}), as reported by its
 * {@link StoreEvent}s: DOWN from a {@code HealthCheckFailed} until {@code HealthRestored}. A provider
 * whose stores report no events (memory, file), or a context without {@code EntityStore} beans,
 * gives UNKNOWN rather than an UP nobody checked.
 */
final class StoreHealthIndicator extends AbstractHealthIndicator {

    private final StoreFactory factory;
    private final StoreEventBridge events;

    StoreHealthIndicator(StoreFactory factory, StoreEventBridge events) {
        super("ReliableStore health check failed");
        this.factory = factory;
        this.events = events;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("provider", factory.providerName());
        if (events.observedStores() == 0) {
            builder.unknown().withDetail("reason", "no EntityStore bean reports store events (none declared, or the provider has no health checks)");
            return;
        }
        builder.withDetail("observedStores", events.observedStores());
        StoreEvent.NodeFailover failover = events.failover();
        if (failover != null) {
            builder.withDetail("primary", failover.newNode()).withDetail("lastFailover", failover.time().toString());
        }
        StoreEvent.HealthCheckFailed failure = events.failure();
        if (failure != null) {
            builder.down().withDetail("reason", failure.reason()).withDetail("since", failure.time().toString());
        } else {
            builder.up();
        }
    }
}
