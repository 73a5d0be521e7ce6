package dev.reliablestore.spring.boot;

import org.springframework.beans.factory.ObjectProvider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.cluster.micrometer.ClusterStoreMeterBinder;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The provider's meters ({@code reliablestore.store.*}, tagged {@code type}) for every
 * {@link EntityStore} bean; {@link ClusterStoreMeterBinder} reads only the store's
 * {@code performanceMetrics()}, which every provider keeps.
 */
final class StoreMeters implements MeterBinder {

    private final ObjectProvider<EntityStore<?>> stores;

    StoreMeters(ObjectProvider<EntityStore<?>> stores) {
        this.stores = stores;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        stores.orderedStream().forEach(store -> new ClusterStoreMeterBinder(store, Tags.empty()).bindTo(registry));
    }
}
