package dev.reliablestore.api;

/**
 * A store that reports {@link StoreEvent}s (health, failover, resolved conflicts). Providers that
 * have no cluster to watch do not implement it.
 */
public interface ObservableStore {

    /** Starts delivering events to the listener until the returned registration is closed. */
    Registration addListener(StoreEventListener listener);

    /** Stops a listener; closing twice is harmless. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
