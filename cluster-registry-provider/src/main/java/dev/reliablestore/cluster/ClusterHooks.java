package dev.reliablestore.cluster;

import java.util.Optional;

/**
 * What a hosting environment (Service Fabric, Kubernetes, an application server) can tell the
 * provider about the node it runs on. Pass an implementation to
 * {@link ClusterPersistenceConfiguration.Builder#hooks(ClusterHooks)}; every method has a default,
 * so an implementation overrides only what it knows.
 *
 * <p>{@link #nodeName()} is called once at open, {@link #unhealthyReason()} from the store's
 * health-check thread and {@link #principal()} on the writing thread; none may block for long.
 */
public interface ClusterHooks {

    /** The hooks used when none are configured: the registry's own node name, no extra check. */
    ClusterHooks NONE = new ClusterHooks() {
    };

    /**
     * This process's node name, used in health faults, events and metric tags. Empty: use the
     * name the registry knows this process by ({@code ClusterStatus.localNode()}).
     */
    default Optional<String> nodeName() {
        return Optional.empty();
    }

    /**
     * An extra health check run with every periodic check. Empty when healthy; otherwise the reason,
     * which is reported in {@link dev.reliablestore.api.StoreEvent.HealthCheckFailed} and raised as a
     * registry health fault for this node until the check passes again.
     */
    default Optional<String> unhealthyReason() {
        return Optional.empty();
    }

    /**
     * Who is performing the current operation, recorded in the audit log
     * ({@code enableAuditLogging}); called on the writing thread after each write. Empty: the
     * operating-system user running the process.
     */
    default Optional<String> principal() {
        return Optional.empty();
    }
}
