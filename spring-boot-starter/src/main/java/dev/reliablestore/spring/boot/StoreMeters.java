package dev.reliablestore.spring.boot;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.micrometer.ClusterStoreMeterBinder;
import dev.reliablestore.cluster.micrometer.SiteMeterBinder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The provider's meters: {@code reliablestore.store.*} (tagged {@code type} and {@code bean}, the
 * bean's name) for every {@link EntityStore} bean — {@link ClusterStoreMeterBinder} reads only the
 * store's {@code performanceMetrics()}, which every provider keeps — and, for a cluster-registry
 * {@link StoreFactory} bean configured with sites, {@code reliablestore.site.*} (tagged {@code site}
 * and {@code target}, {@link SiteMeterBinder}).
 */
final class StoreMeters implements MeterBinder {

    private static final String CLUSTER_REGISTRY = "cluster-registry";

    private final ListableBeanFactory beans;
    private final ObjectProvider<StoreFactory> factories;

    StoreMeters(ListableBeanFactory beans, ObjectProvider<StoreFactory> factories) {
        this.beans = beans;
        this.factories = factories;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        // Micrometer keeps one meter per name and tags: without the bean's name a second store of a type name (another
        // factory's, say) would get the first one's meters, and its own figures would never be reported
        StoreEventBridge.storeBeans(beans).forEach((name, store) ->
                new ClusterStoreMeterBinder(store, Tags.of("bean", name)).bindTo(registry));
        factories.orderedStream().filter(f -> CLUSTER_REGISTRY.equals(f.providerName())).forEach(f -> {
            SiteMeterBinder sites;
            try {
                // under JTA the context's factory is the wrapper that enlists its stores: the shipping is the provider's
                sites = new SiteMeterBinder(f instanceof JtaStoreFactory jta ? jta.delegate() : f, Tags.empty());
            } catch (IllegalArgumentException notTheProvidersOwn) {
                return; // a factory of the application's own under the provider's name (a wrapper): no shipping to report
            }
            sites.bindTo(registry);
        });
    }
}
