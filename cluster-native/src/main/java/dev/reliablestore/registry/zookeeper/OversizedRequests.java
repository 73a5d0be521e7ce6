package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryLimitException;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Tells a request the servers refuse for its size from a flaky connection. A server drops the
 * connection of a request longer than its {@code jute.maxbuffer} ("Len error" in its log); the client
 * only sees a connection loss, so without this the batch would be fenced and re-sent until the
 * failover timeout. The client cannot ask the servers for their limit, so: when the same batch's
 * request, larger than ZooKeeper's default limit, loses the connection {@value #LOSSES} times in a row
 * and each time the fence (a small request on the same connection) goes through and proves it did not
 * apply, the batch fails with a {@link RegistryLimitException}.
 *
 * <p>Many batches of one registry are in flight at once, so the losses are counted per batch
 * ({@code WriteBatch} has identity equality).
 */
final class OversizedRequests {

    static final int LOSSES = 2;

    private final int maxRequestBytes;
    /** Weak keys: a batch that fails otherwise or commits is not kept alive by its count. */
    private final Map<Object, Integer> losses = new WeakHashMap<>();

    OversizedRequests(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
    }

    /**
     * A request of {@code batch} was answered, if only with a failed condition: the servers take a
     * request its size, so the losses before it were the connection's, and the count starts again.
     */
    synchronized void answered(Object batch) {
        losses.remove(batch);
    }

    /**
     * A request of {@code batch} was lost and then fenced (it did not apply). Returns the error to fail
     * the batch with, or null to re-send it.
     */
    synchronized RegistryLimitException fenced(Object batch, long requestBytes) {
        if (requestBytes <= ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER) {
            losses.remove(batch); // a request every server accepts: the connection itself is the problem
            return null;
        }
        int lost = losses.merge(batch, 1, Integer::sum);
        if (lost < LOSSES) {
            return null;
        }
        losses.remove(batch);
        return new RegistryLimitException("the batch needs a ZooKeeper request of " + requestBytes + " bytes, and the server dropped the connection"
                + " each of the " + LOSSES + " times it was sent while smaller requests went through: the servers' jute.maxbuffer is most likely"
                + " below " + requestBytes + " (ZooKeeper's default is " + ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER + " bytes; the server logs"
                + " \"Len error\"), although this registry's maxRequestBytes is " + maxRequestBytes + ". Set jute.maxbuffer on every ZooKeeper"
                + " server and client to at least maxRequestBytes, or lower maxRequestBytes to the servers' jute.maxbuffer. The batch was not"
                + " applied (its change-log entry was fenced)", requestBytes, ZooKeeperOptions.ZOOKEEPER_DEFAULT_MAX_BUFFER);
    }
}
