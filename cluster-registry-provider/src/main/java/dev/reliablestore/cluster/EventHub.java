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

    /** A listener; compared by identity (one per registration). */
    private static final class Entry {
        final Object owner;
        final StoreEventListener listener;
        /** The last HealthCheckFailed delivered to it; written and read on the event thread. */
        StoreEvent.HealthCheckFailed lastFailure;

        Entry(Object owner, StoreEventListener listener) {
            this.owner = owner;
            this.listener = listener;
        }
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

    /**
     * Adds a listener: it gets every event delivered from now on and, if the health check is failing
     * when the events already queued have been delivered, that {@code HealthCheckFailed} (unless it
     * got it among them): a failure is published only when its reason changes, so a listener added
     * later (after a slow application start, say) would otherwise never learn of it.
     */
    ObservableStore.Registration add(Object owner, StoreEventListener listener) {
        Entry e = new Entry(owner, java.util.Objects.requireNonNull(listener, "listener"));
        listeners.add(e);
        try {
            thread.execute(() -> {
                StoreEvent.HealthCheckFailed now = failing;
                if (now != null && e.lastFailure != now && listeners.contains(e)) {
                    deliver(e, now);
                }
            });
        } catch (RejectedExecutionException closed) {
            // the factory is closing: nothing more is delivered
        }
        return () -> listeners.remove(e);
    }

    /** The health check's failure since its last HealthCheckFailed and until HealthRestored; read and written on the event thread. */
    private StoreEvent.HealthCheckFailed failing;

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
                if (event instanceof StoreEvent.HealthCheckFailed f) {
                    failing = f;
                } else if (event instanceof StoreEvent.HealthRestored) {
                    failing = null;
                }
                for (Entry e : listeners) {
                    if (owner == null || e.owner == owner) {
                        deliver(e, event);
                    }
                }
            });
        } catch (RejectedExecutionException closed) {
            // the factory is closing: events after close are dropped on purpose
        }
    }

    private static void deliver(Entry e, StoreEvent event) {
        if (event instanceof StoreEvent.HealthCheckFailed f) {
            e.lastFailure = f;
        }
        try {
            e.listener.onEvent(event);
        } catch (Exception | Error failure) {
            // an Error too, or a checked exception thrown undeclared: thrown on, it would keep the event from the listeners
            // after this one, and a health failure for good
            LOG.warn("store event listener {} threw on {}; it stays registered", e.listener, event.getClass().getSimpleName(), failure);
        }
    }

    void close() {
        thread.shutdown();
        listeners.clear();
    }
}
