package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistry;

/**
 * Test-only access to the package-private {@link ClusterStoreFactory#onRegistry} seam, for backend
 * tests in other packages that must open the registry themselves (the clusapi backend over its
 * in-memory fake cannot be opened by URI off Windows).
 */
public final class BackendsTestSupport {

    private BackendsTestSupport() {
    }

    /**
     * A factory over {@code registry} that closes the registry after itself, as a factory opened by
     * URI does. If the factory cannot be created, the registry is closed and the error rethrown.
     */
    public static StoreFactory factoryOwning(ClusterPersistenceConfiguration config, ClusterRegistry registry) {
        ClusterStoreFactory factory;
        try {
            factory = ClusterStoreFactory.onRegistry(config, registry);
        } catch (RuntimeException e) {
            registry.close();
            throw e;
        }
        return new StoreFactory() {
            @Override
            public String providerName() {
                return factory.providerName();
            }

            @Override
            public <T> EntityStore<T> store(String typeName, Class<T> type) {
                return factory.store(typeName, type);
            }

            @Override
            public void close() {
                try {
                    factory.close();
                } finally {
                    registry.close();
                }
            }
        };
    }
}
