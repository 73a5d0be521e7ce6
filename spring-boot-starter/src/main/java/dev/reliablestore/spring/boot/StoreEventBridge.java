package dev.reliablestore.spring.boot;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.ApplicationEventPublisher;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.ObservableStore;
import dev.reliablestore.api.StoreEvent;

/**
 * Listens to the context's {@link EntityStore} beans and republishes their {@link StoreEvent}s as
 * Spring application events (on the store's event thread), keeping the last health verdict for the
 * health indicator. Stores are the only public source of events, and opening one just to listen
 * would create an entity type in the application's data, hence the beans.
 */
final class StoreEventBridge implements SmartInitializingSingleton, DisposableBean {

    private final ObjectProvider<EntityStore<?>> stores;
    private final ApplicationEventPublisher publisher;
    private final List<ObservableStore.Registration> registrations = new CopyOnWriteArrayList<>();
    /**
     * A factory hands each cluster-wide event (health, failover), as one instance, to the listeners
     * of all its stores one after the other on its event thread: seen twice in a row, it is a copy.
     */
    private final AtomicReference<StoreEvent> lastShared = new AtomicReference<>();
    private volatile StoreEvent.HealthCheckFailed failure;
    private volatile StoreEvent.NodeFailover failover;

    StoreEventBridge(ObjectProvider<EntityStore<?>> stores, ApplicationEventPublisher publisher) {
        this.stores = stores;
        this.publisher = publisher;
    }

    @Override
    public void afterSingletonsInstantiated() {
        stores.orderedStream().forEach(store -> {
            ObservableStore observable = observable(store);
            if (observable != null) {
                registrations.add(observable.addListener(this::onEvent));
            }
        });
    }

    /** The store's events, also through a wrapper such as a JTA-aware store; null when it has none. */
    private static ObservableStore observable(EntityStore<?> store) {
        if (store instanceof ObservableStore observable) {
            return observable;
        }
        try {
            return store.unwrap(ObservableStore.class);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private void onEvent(StoreEvent event) {
        if (!(event instanceof StoreEvent.ConflictResolved) && lastShared.getAndSet(event) == event) {
            return;
        }
        if (event instanceof StoreEvent.HealthCheckFailed f && f == failure) {
            return; // the failure in force, told again to another store's listener (one added later gets it first)
        }
        if (event instanceof StoreEvent.HealthCheckFailed f) {
            failure = f;
        } else if (event instanceof StoreEvent.HealthRestored) {
            failure = null;
        } else if (event instanceof StoreEvent.NodeFailover n) {
            failover = n;
        }
        publisher.publishEvent(event);
    }

    /** How many stores are observed; none means there is no health to report. */
    int observedStores() {
        return registrations.size();
    }

    /** The failed check not followed by a restored one, or null. */
    StoreEvent.HealthCheckFailed failure() {
        return failure;
    }

    /** The last change of primary node, or null when none was seen. */
    StoreEvent.NodeFailover failover() {
        return failover;
    }

    @Override
    public void destroy() {
        registrations.forEach(ObservableStore.Registration::close);
        registrations.clear();
    }
}
