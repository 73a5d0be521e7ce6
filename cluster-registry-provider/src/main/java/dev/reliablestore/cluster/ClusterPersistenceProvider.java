package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.spi.PersistenceProvider;

import java.util.Map;

/**
 * The {@code "cluster-registry"} persistence provider: entities in a {@link dev.reliablestore.registry.ClusterRegistry}
 * (embedded by default, ZooKeeper or the Windows cluster database by URI). Found by
 * {@code Persistence.open("cluster-registry", options, Type.class)}; or open it from a built
 * configuration with {@link #open(ClusterPersistenceConfiguration)}. Each factory holds one
 * registry connection shared by the stores of all its entity types.
 */
public final class ClusterPersistenceProvider implements PersistenceProvider {

    /** The provider's stable name. */
    public static final String NAME = "cluster-registry";

    @Override
    public String name() {
        return NAME;
    }

    /** Opens a factory from the string options documented in {@code docs/configuration.md}. */
    @Override
    public StoreFactory open(Map<String, String> configuration) {
        return open(ClusterPersistenceConfiguration.fromMap(configuration));
    }

    /**
     * Opens a factory from the string options whose stores encode entities with {@code codec}
     * ({@code Persistence.openFactory("cluster-registry", options, codec)}); the same as the builder's
     * {@link ClusterPersistenceConfiguration.Builder#codec}.
     */
    @Override
    public StoreFactory open(Map<String, String> configuration, EntityCodec codec) {
        return open(ClusterPersistenceConfiguration.fromMap(configuration, codec));
    }

    /** Opens a factory from a built configuration (which may carry hooks, resolvers, a custom key source or codec). */
    public static StoreFactory open(ClusterPersistenceConfiguration configuration) {
        return ClusterStoreFactory.open(configuration);
    }

    /**
     * Opens a factory on a registry the caller opened and keeps owning: closing the factory leaves
     * the registry open, and several factories may share one (a tool that also reads the raw tree,
     * a test). The configuration's {@code clusterName} is not used to connect. A configuration with
     * sites is refused ({@code ConfigurationException}): it opens the sites' registries itself.
     */
    public static StoreFactory open(ClusterPersistenceConfiguration configuration, ClusterRegistry registry) {
        return ClusterStoreFactory.onRegistry(configuration, registry);
    }
}
