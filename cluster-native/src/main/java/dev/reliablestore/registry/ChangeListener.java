package dev.reliablestore.registry;

/**
 * Receives the change feed of a subtree. Calls come from one thread per watch, one at a time, in
 * commit order. A listener that throws is logged and keeps its watch.
 */
public interface ChangeListener {

    /** A committed batch touched the subtree; sequences strictly increase from call to call. */
    void onBatch(ChangeBatch batch);

    /**
     * Batches may have been missed (the listener fell behind, the connection was lost, the session
     * expired): whatever the listener derived from the feed must be re-read from the registry.
     * Batches delivered after this call are again complete and in order.
     *
     * @param reason why, for logs
     */
    void onResync(String reason);
}
