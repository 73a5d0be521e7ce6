package dev.reliablestore.cluster;

import dev.reliablestore.api.ObservableStore;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreEventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * Delivers a factory's events on one daemon thread, one at a time, in order. Cluster-wide events
 * (health, failover) go to every listener of every store; a store's own events only to its listeners.
 */
final class EventHub {

    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);

    private record Entry(Object owner, StoreEventListener listener) {
    }

    private final CopyOnWriteArrayList<Entry> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService thread;

    EventHub(String name) {
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-events-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    ObservableStore.Registration add(Object owner, StoreEventListener listener) {
        Entry e = new Entry(owner, java.util.Objects.requireNonNull(listener, "listener"));
        listeners.add(e);
        return () -> listeners.remove(e);
    }

    void removeOwner(Object owner) {
        listeners.removeIf(e -> e.owner == owner);
    }

    /** To every listener. */
    void publish(StoreEvent event) {
        publish(null, event);
    }

    /** To the owner's listeners, or to all when owner is null. */
    void publish(Object owner, StoreEvent event) {
        try {
            thread.execute(() -> {
                for (Entry e : listeners) {
                    if (owner == null || e.owner == owner) {
                        try {
                            e.listener.onEvent(event);
                        } catch (RuntimeException failure) {
                            LOG.warn("store event listener {} threw on {}; it stays registered", e.listener, event.getClass().getSimpleName(), failure);
                        }
                    }
                }
            });
        } catch (RejectedExecutionException closed) {
            // the factory is closing: events after close are dropped on purpose
        }
    }

    void close() {
        thread.shutdown();
        listeners.clear();
    }
}
