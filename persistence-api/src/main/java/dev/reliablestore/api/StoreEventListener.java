package dev.reliablestore.api;

/**
 * Receives {@link StoreEvent}s. Called from the store's own event thread, one event at a time and
 * in order; a listener that throws is logged and kept.
 */
@FunctionalInterface
public interface StoreEventListener {

    void onEvent(StoreEvent event);
}
