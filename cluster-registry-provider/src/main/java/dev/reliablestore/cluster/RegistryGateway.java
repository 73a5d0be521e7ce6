package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The provider's only route to the registry's reads and commits, for the entity stores and the
 * transaction participant alike: retries with backoff ({@link Retrier}), the minimum-nodes gate,
 * SYNC/ASYNC commit, settling a lost condition after an attempt whose outcome was unknown, and the
 * one translation of registry errors into the API's:
 *
 * <table>
 * <tr><th>registry</th><th>API</th></tr>
 * <tr><td>{@code RegistryUnavailableException}, fewer than minimumNodes up</td><td>retried, then {@code StoreUnavailableException}</td></tr>
 * <tr><td>{@code RegistryStoppedException}</td><td>{@code PersistenceException}, not retried, not retryable</td></tr>
 * <tr><td>{@code RegistryClosedException}</td><td>{@code StoreClosedException}; after an attempt whose outcome is unknown,
 * {@code StoreUnavailableException} with {@code outcomeUnknown()} true</td></tr>
 * <tr><td>{@code RegistryCorruptedException} reading an entity's value</td><td>{@code DataIntegrityException} (blamed by {@link EntityRecords})</td></tr>
 * <tr><td>{@code RegistryCorruptedException} otherwise</td><td>{@code PersistenceException} "the registry's durable state is damaged"</td></tr>
 * <tr><td>{@code RegistryLimitException}</td><td>{@code EntityTooLargeException}</td></tr>
 * <tr><td>{@code RegistryArgumentException}</td><td>{@code PersistenceException} "was refused by the registry"</td></tr>
 * <tr><td>{@code ConditionFailedException}</td><td>passed to the caller, which knows which race it lost</td></tr>
 * <tr><td>any other {@code RegistryException} (e.g. a ZooKeeper ACL refusal)</td><td>{@code PersistenceException}, not retryable</td></tr>
 * </table>
 */
final class RegistryGateway {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryGateway.class);
    private static final Runnable NO_COUNT = () -> { };

    private final ClusterRegistry registry;
    private final Retrier retrier;
    private final ReplicationMode replicationMode;
    private final int minimumNodes;
    private volatile long liveNodes;

    RegistryGateway(ClusterRegistry registry, Retrier retrier, ReplicationMode replicationMode, int minimumNodes, long liveNodes) {
        this.registry = registry;
        this.retrier = retrier;
        this.replicationMode = replicationMode;
        this.minimumNodes = minimumNodes;
        this.liveNodes = liveNodes;
    }

    /** A batch to commit, and what the gateway needs to commit it and explain a failure. */
    static final class Commit {
        private final String what;
        private final WriteBatch batch;
        private final boolean durable;
        private String subject = "transactional";
        private int entries;
        private RegistryPath visibleKey;
        private String visibleName;
        private byte[] visibleValue;
        private Supplier<OptionalLong> landed;
        private Runnable onRetry = NO_COUNT;
        private boolean gated = true;

        private Commit(String what, WriteBatch batch, boolean durable) {
            this.what = what;
            this.batch = batch;
            this.durable = durable;
        }

        /** Committed SYNC whatever the replication mode says (metadata, transaction records). */
        static Commit durable(String what, WriteBatch batch) {
            return new Commit(what, batch, true);
        }

        /** Committed in the configured replication mode; ASYNC waits for durability unless {@link #visibleWhen} says otherwise. */
        static Commit replicated(String what, WriteBatch batch) {
            return new Commit(what, batch, false);
        }

        /** Names the entities of the batch in a limit error. */
        Commit of(String subject, int entries) {
            this.subject = subject;
            this.entries = entries;
            return this;
        }

        /**
         * ASYNC: the batch counts as committed once a read shows exactly this value (durability
         * follows within the backend's flush interval), instead of waiting for durability.
         */
        Commit visibleWhen(RegistryPath key, String name, byte[] value) {
            this.visibleKey = key;
            this.visibleName = name;
            this.visibleValue = value;
            return this;
        }

        /**
         * After a lost condition that follows an attempt whose outcome was unknown: whether that
         * attempt landed, and the sequence (or revision) it is visible at; empty if it did not.
         */
        Commit landedIf(Supplier<OptionalLong> landed) {
            this.landed = landed;
            return this;
        }

        /** Not held back while fewer than minimumNodes are up: the layout and type descriptors, so that opening works. */
        Commit ungated() {
            this.gated = false;
            return this;
        }

        Commit countingRetries(Runnable onRetry) {
            this.onRetry = onRetry;
            return this;
        }
    }

    /**
     * Commits with retries; returns the commit sequence.
     *
     * @throws ConditionFailedException a condition failed and, if an attempt's outcome was unknown, it did not land
     */
    long commit(Commit c) {
        return commit(c, null, System.nanoTime());
    }

    /**
     * {@link #commit(Commit)} without parking a thread while the registry works: composed on the
     * registry's {@code syncCommitAsync} (visible once durable, as {@code commit} makes it), so many
     * commits are in flight on one connection. The future
     * completes on {@code executor}; a first attempt that fails retryably, or is held back by
     * minimumNodes, continues there as {@link #commit(Commit)} would. ASYNC replication (answered
     * once a read shows the value) goes to {@code executor} whole where the registry applies a
     * batch before its commit's answer; elsewhere the answer is the first moment the value shows, so
     * it is answered as SYNC is.
     */
    CompletableFuture<Long> commitAsync(Commit c, Executor executor) {
        if (!c.durable && replicationMode != ReplicationMode.SYNCHRONOUS && registry.appliesBeforeCommitAsyncReturns()
                || c.gated && minimumNodes > 1 && liveNodes < minimumNodes) {
            try {
                return CompletableFuture.supplyAsync(() -> commit(c), executor);
            } catch (RuntimeException refused) { // RejectedExecutionException, or whatever an executor throws instead
                return CompletableFuture.failedFuture(unsent(c, refused)); // an async call fails through its future
            }
        }
        long start = System.nanoTime();
        CompletableFuture<CommitResult> first;
        try {
            first = registry.syncCommitAsync(c.batch, executor);
        } catch (RuntimeException refused) {
            first = CompletableFuture.failedFuture(refused);
        }
        // an answer arrives on the executor already; a failure's retries park, so they go there whatever thread saw it
        return first.handle((done, failed) -> {
            if (failed == null) {
                return CompletableFuture.completedFuture(done.sequence());
            }
            RuntimeException cause = unwrap(failed);
            try {
                return CompletableFuture.supplyAsync(() -> commit(c, cause, start), executor);
            } catch (RuntimeException refused) { // RejectedExecutionException, or whatever an executor throws instead
                return CompletableFuture.<Long>failedFuture(notRetried(c, cause, start, refused));
            }
        }).thenCompose(f -> f);
    }

    /**
     * The answer to a first attempt whose retry the executor refused (shut down as the factory
     * closes, or saturated). A failure that is not retried is settled here, on the thread that
     * answered, as {@link #commit} would; a retryable one is not retried, and says whether it may
     * have landed.
     */
    private RuntimeException notRetried(Commit c, RuntimeException cause, long start, RuntimeException refused) {
        if (!(cause instanceof RegistryUnavailableException unavailable)) {
            try {
                commit(c, cause, start); // no retry and no wait: the retrier passes a non-retryable failure on mapped
                return new IllegalStateException(c.what + ": a failed attempt was answered as a success");
            } catch (RuntimeException settled) {
                return settled;
            }
        }
        String notRetried = "; it was not retried because the executor refused the retry (" + refused + ": the store factory is"
                + " closing, or a supplied executor is saturated)";
        StoreUnavailableException failed = unavailable.outcomeUnknown()
                ? new StoreUnavailableException(c.what + " failed: " + cause.getMessage() + notRetried + ", and the attempt was sent and"
                        + " its answer lost, so its outcome is unknown: read to decide", cause, true)
                : new StoreUnavailableException(c.what + " failed: " + cause.getMessage() + notRetried + "; nothing was written", cause, false);
        failed.addSuppressed(refused);
        return failed;
    }

    /**
     * The answer to a commit the executor refused to run (it runs there whole): nothing was sent, so
     * it is a retryable {@link StoreUnavailableException} whose cause is the refusal, as the
     * synchronous call's failures are {@code PersistenceException}s; an executor's own
     * {@code PersistenceException} (e.g. "closed") is passed on.
     */
    private static PersistenceException unsent(Commit c, RuntimeException refused) {
        if (refused instanceof PersistenceException own) {
            return own;
        }
        return new StoreUnavailableException(c.what + " failed: it was not sent, because the executor refused the task (" + refused
                + ": the store factory is closing, or a supplied executor is saturated); nothing was written: try again later",
                refused, false);
    }

    /** Whether {@code failed} is {@link #unsent}'s answer to an executor's refusal. */
    static boolean refusedUnsent(Throwable failed) {
        return failed instanceof StoreUnavailableException u && !u.outcomeUnknown() && u.getCause() instanceof RejectedExecutionException;
    }

    private static RuntimeException unwrap(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof RuntimeException r ? r : new CompletionException(cause);
    }

    private long commit(Commit c, RuntimeException firstFailure, long start) {
        boolean[] outcomeUnknown = {firstFailure instanceof RegistryUnavailableException u && u.outcomeUnknown()};
        try {
            return call(c.what, () -> {
                if (c.gated) {
                    checkMinimumNodes();
                }
                try {
                    return attempt(c);
                } catch (RegistryUnavailableException u) {
                    outcomeUnknown[0] |= u.outcomeUnknown();
                    throw u;
                }
            }, c.onRetry, c, firstFailure, start);
        } catch (ConditionFailedException lost) {
            if (outcomeUnknown[0] && c.landed != null) {
                OptionalLong landedAt;
                try {
                    landedAt = c.landed.get();
                } catch (PersistenceException unread) {
                    if (unread.outcomeUnknown()) {
                        throw unread;
                    }
                    // "closed", "unavailable" or "damaged" alone would read as "not written", and the lost attempt may have landed
                    String message = c.what + " failed: an attempt was sent and its answer lost, and whether it landed could not be read ("
                            + unread.getMessage() + "); its outcome is unknown: read to decide";
                    throw unread instanceof StoreClosedException || unread instanceof StoreUnavailableException
                            ? new StoreUnavailableException(message, unread, true) : new PersistenceException(message, unread, true);
                }
                if (landedAt.isPresent()) {
                    return landedAt.getAsLong();
                }
            }
            throw lost;
        }
    }

    private long attempt(Commit c) {
        if (c.durable || replicationMode == ReplicationMode.SYNCHRONOUS) {
            return registry.commit(c.batch).sequence();
        }
        CompletableFuture<CommitResult> future = registry.commitAsync(c.batch);
        try {
            // only where a pending future means the batch passed its conditions: elsewhere the same bytes may be
            // another writer's (a rejected read-modify-write that computed the same value would read as applied)
            if (!future.isDone() && c.visibleKey != null && registry.appliesBeforeCommitAsyncReturns()) {
                OptionalLong applied = registry.appliedSequence(future);
                if (applied.isPresent()) { // the backend says so: no read of our own write back
                    reportIfNeverDurable(future, c.what);
                    return applied.getAsLong();
                }
                Optional<VersionedValue> visible;
                try {
                    visible = registry.getValue(c.visibleKey, c.visibleName);
                } catch (RegistryUnavailableException | RegistryClosedException unread) {
                    // the batch was handed to the registry: it may apply whatever this read says
                    throw new RegistryUnavailableException(c.what + ": the batch was sent and the read of whether it is visible failed ("
                            + unread.getMessage() + ")", unread, true);
                } catch (RegistryException unreadable) {
                    // e.g. what the batch overwrites does not decode: the read only saves a wait, the batch's own answer decides
                    visible = Optional.empty();
                }
                if (visible.isPresent() && Arrays.equals(visible.get().value().unsafeData(), c.visibleValue)) {
                    reportIfNeverDurable(future, c.what);
                    return visible.get().revision();
                }
            }
            return future.join().sequence();
        } catch (CompletionException wrapped) {
            if (wrapped.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw wrapped;
        }
    }

    private static void reportIfNeverDurable(CompletableFuture<CommitResult> future, String what) {
        future.whenComplete((ok, failed) -> {
            if (failed != null) {
                LOG.error("ASYNC {} was applied but did not become durable: {}", what, failed.toString());
            }
        });
    }

    ReadBatchResult read(String what, ReadBatch batch) {
        return read(what, batch, NO_COUNT, null);
    }

    /**
     * A read with retries. {@code undecodable} (may be null) turns a value the registry cannot
     * decode into the caller's error; what it returns is thrown unless it is the exception itself.
     */
    ReadBatchResult read(String what, ReadBatch batch, Runnable onRetry,
                         Function<RegistryCorruptedException, RuntimeException> undecodable) {
        return call(what, () -> {
            try {
                return registry.read(batch);
            } catch (RegistryCorruptedException e) {
                throw undecodable == null ? e : undecodable.apply(e);
            }
        }, onRetry, null);
    }

    Optional<VersionedValue> value(String what, RegistryPath key, String name) {
        return call(what, () -> registry.getValue(key, name), NO_COUNT, null);
    }

    /** The values of a key; empty when the key does not exist. */
    Optional<Map<String, VersionedValue>> values(String what, RegistryPath key) {
        return call(what, () -> {
            try {
                return Optional.of(registry.values(key));
            } catch (NoSuchKeyException none) {
                return Optional.empty();
            }
        }, NO_COUNT, null);
    }

    /** One read without retries, to locate damage: what the registry cannot decode in it, if anything. */
    Optional<RegistryCorruptedException> undecodableIn(ReadBatch batch) {
        try {
            registry.read(batch);
            return Optional.empty();
        } catch (RegistryCorruptedException e) {
            return Optional.of(e);
        }
    }

    /** A change watch, registered with the retries and error mapping of a read (on ZooKeeper it is a call to the server). */
    Watch watch(RegistryPath subtree, ChangeListener listener) {
        return call("registering a change watch on " + subtree, () -> registry.watch(subtree, listener), NO_COUNT, null);
    }

    /** {@link ClusterRegistry#readBarrier()}, with the retries and error mapping of a read. */
    void readBarrier(String what) {
        call(what, () -> {
            registry.readBarrier();
            return null;
        }, NO_COUNT, null);
    }

    /** The registry's commit sequence, read with the retries and error mapping of every other read. */
    long currentSequence() {
        return call("reading the commit sequence of " + registry.uri(), registry::currentSequence, NO_COUNT, null);
    }

    RegistryLimits limits() {
        return registry.limits();
    }

    String uri() {
        return registry.uri();
    }

    long liveNodes() {
        return liveNodes;
    }

    /** What membership events and health checks last saw. */
    void liveNodes(long live) {
        liveNodes = live;
    }

    /** Refuses a write (retryably) while fewer than minimumNodes nodes are up or drained. */
    private void checkMinimumNodes() {
        if (minimumNodes <= 1 || liveNodes >= minimumNodes) {
            return;
        }
        long live = serving(registry.status());
        liveNodes = live;
        if (live < minimumNodes) {
            throw new Retrier.Unavailable("only " + live + " cluster node(s) are up or drained; minimumNodes = " + minimumNodes);
        }
    }

    /**
     * The nodes that count for minimumNodes: UP, and PAUSED (drained by an administrator), which still
     * hold their copy of the data and take part in commits; only the primary role is kept from them.
     */
    static long serving(ClusterStatus status) {
        return status.nodes().stream().filter(n -> n.state() == NodeState.UP || n.state() == NodeState.PAUSED).count();
    }

    /** The Retrier maps what is retried, closed, stopped or damaged; the rest of the table is here. */
    private <R> R call(String what, Supplier<R> call, Runnable onRetry, Commit commit) {
        return call(what, call, onRetry, commit, null, System.nanoTime());
    }

    private <R> R call(String what, Supplier<R> call, Runnable onRetry, Commit commit, RuntimeException firstFailure, long start) {
        try {
            return retrier.call(what, call, onRetry, firstFailure, start);
        } catch (ConditionFailedException lost) {
            throw lost;
        } catch (RegistryLimitException limit) {
            if (commit == null) {
                throw new PersistenceException(what + " failed: " + limit.getMessage(), limit);
            }
            throw EntityTooLargeException.batch(commit.subject, commit.entries, limit.size(), limit.limit());
        } catch (RegistryArgumentException refused) {
            throw new PersistenceException(what + " was refused by the registry: " + refused.getMessage(), refused);
        } catch (RegistryException other) {
            throw new PersistenceException(what + " failed: " + other.getMessage(), other);
        }
    }

    @Override
    public String toString() {
        return "gateway to " + registry.uri();
    }
}
