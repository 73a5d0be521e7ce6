package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.KeeperException;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The ZooKeeper requests a registry waits on, each failed with
 * {@link KeeperException.OperationTimeoutException} — a connection problem, so a write then settles
 * its outcome with its fence — when it is still unanswered past its deadline.
 *
 * <p>Why: the ZooKeeper client has no timeout per request. It notices a dead connection by its pings,
 * not a request the server never answers while the session stays alive — which we saw after a
 * leader's SIGKILL: a {@code multi} pending on a live session while later reads of the session were
 * answered. Without a bound, every batch ordered after it waits for good.
 *
 * <p>A request costs a map insert; a periodic {@link #sweep} on a thread of its own forgets the
 * answered ones and fails the overdue ones. A timer per request, or a completion stage on it, cost
 * about 0.4 ms per request on a 2-core machine (measured with {@code ZooKeeperBench.readUncached}).
 */
final class AnswerDeadlines {

    private final long timeoutNanos;
    private final Map<CompletableFuture<?>, Long> outstanding = new ConcurrentHashMap<>();

    AnswerDeadlines(long timeoutMs) {
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    }

    /**
     * How often {@link #sweep} should run: a quarter of the timeout, between 10 and 250 ms (answered
     * requests are forgotten only by a sweep, so this also bounds how long their answers stay referenced).
     */
    long sweepPeriodMs() {
        return Math.max(10, Math.min(250, TimeUnit.NANOSECONDS.toMillis(timeoutNanos) / 4));
    }

    /** {@code f}, failed by a later {@link #sweep} if not completed within the timeout from now. */
    <T> CompletableFuture<T> watch(CompletableFuture<T> f) {
        if (f.isDone()) {
            return f;
        }
        // no completion stage on f: one more dependent on a future completed by ZooKeeper's event
        // thread measured about 0.4 ms more per request on a 2-core machine; the sweep forgets answered ones
        outstanding.put(f, System.nanoTime() + timeoutNanos);
        return f;
    }

    /** Fails every watched request whose deadline has passed. */
    void sweep() {
        long now = System.nanoTime();
        outstanding.forEach((f, due) -> {
            if (f.isDone()) {
                outstanding.remove(f);
            } else if (now - due >= 0) {
                f.completeExceptionally(new KeeperException.OperationTimeoutException());
                outstanding.remove(f);
            }
        });
    }

    /** Requests watched and not yet forgotten by a sweep (for tests). */
    int outstanding() {
        return outstanding.size();
    }
}
