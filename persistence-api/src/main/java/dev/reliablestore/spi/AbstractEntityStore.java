package dev.reliablestore.spi;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The part of an {@link EntityStore} every provider shares: argument checks before any I/O, the
 * closed state, latency and counter bookkeeping, and the async twins. A provider implements the
 * {@code do…} methods, which receive only validated arguments.
 *
 * <p>The async twins run the synchronous call on the executor given to the constructor; a provider
 * with a truly asynchronous path (e.g. a write acknowledged before it is durable) overrides them.
 * They take their arguments on the calling thread: collections and maps are copied, a save's
 * arguments checked and its entities taken through {@link #takeForSave} and {@link #takeForBatch}
 * (a provider that encodes entities encodes them there), so a change the caller makes afterwards is
 * not seen; a failure of that fails the future.
 * When the executor refuses the task (saturated, or shut down), the twin fails with a retryable
 * {@link StoreUnavailableException} (nothing was done), or with {@link StoreClosedException} once the
 * store or its owner is closed.
 */
public abstract class AbstractEntityStore<T> implements EntityStore<T> {

    /** An expected version meaning "whatever is stored": the write is unconditional. */
    protected static final long ANY_VERSION = -1L;

    private final String typeName;
    private final Executor asyncExecutor;
    private final LatencyRecorder readLatency = new LatencyRecorder();
    private final LatencyRecorder writeLatency = new LatencyRecorder();
    private final LongAdder cacheHits = new LongAdder();
    private final LongAdder cacheMisses = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder bytesBefore = new LongAdder();
    private final LongAdder bytesAfter = new LongAdder();
    private volatile boolean closed;

    protected AbstractEntityStore(String typeName, Executor asyncExecutor) {
        this.typeName = EntityIds.requireValidTypeName(typeName);
        this.asyncExecutor = Objects.requireNonNull(asyncExecutor, "asyncExecutor");
    }

    // ---- what a provider implements -------------------------------------------------------

    protected abstract Optional<Versioned<T>> doGet(String id);

    /** Reads several ids; the default reads them one by one, a provider with a batched read overrides it. */
    protected Map<String, Versioned<T>> doGetMany(List<String> ids) {
        Map<String, Versioned<T>> found = new LinkedHashMap<>();
        for (String id : ids) {
            doGet(id).ifPresent(v -> found.put(id, v));
        }
        return found;
    }

    protected boolean doExists(String id) {
        return doGet(id).isPresent();
    }

    /**
     * Writes the entity if the stored version equals {@code expectedVersion} ({@link #ANY_VERSION}:
     * unconditionally), returning the new version.
     */
    protected abstract long doSave(String id, T entity, long expectedVersion);

    /**
     * Deletes the entity if the stored version equals {@code expectedVersion}
     * ({@link #ANY_VERSION}: whatever it is); returns whether one was deleted. With an expected
     * version, a missing entity is a conflict.
     */
    protected abstract boolean doDelete(String id, long expectedVersion);

    /** Every entity matching the filter (null = all), ordered by id. */
    protected abstract List<Versioned<T>> doGetAll(Predicate<? super T> filter);

    protected long doCount(Predicate<? super T> filter) {
        return doGetAll(filter).size();
    }

    protected abstract long doClear();

    /** Writes all entries atomically (all or nothing) and returns the new versions in entry order. */
    protected abstract Map<String, Long> doSaveBatch(Map<String, T> entities);

    /**
     * Takes the entity of an async save on the calling thread and returns the save to run later on the
     * executor, as {@link #doSave} would with these arguments. A provider that encodes entities encodes
     * it here, so that what is written is the entity as it was when the save was called, not what the
     * caller's object holds by the time the executor runs it. The default takes the object itself, to be
     * read when the save runs. Gets checked arguments; what it throws fails the save's future.
     */
    protected LongSupplier takeForSave(String id, T entity, long expectedVersion) {
        return () -> doSave(id, entity, expectedVersion);
    }

    /** As {@link #takeForSave}, for an async batch (not empty) and {@link #doSaveBatch}. */
    protected Supplier<Map<String, Long>> takeForBatch(Map<String, T> entities) {
        return () -> doSaveBatch(entities);
    }

    /** Releases the provider's resources; called once. */
    protected abstract void doClose();

    /** Whether something this store depends on (its factory, its connection) was closed. */
    protected boolean isOwnerClosed() {
        return false;
    }

    /** What this store is called in messages, e.g. {@code file store Customer}. */
    protected String describe() {
        return "store " + typeName;
    }

    // ---- bookkeeping a provider calls --------------------------------------------------------

    protected final void countCacheHit() {
        cacheHits.increment();
    }

    protected final void countCacheMiss() {
        cacheMisses.increment();
    }

    protected final void countRetry() {
        retries.increment();
    }

    /** Counts a conflict the provider resolved itself; conflicts it throws are counted here already. */
    protected final void countConflict() {
        conflicts.increment();
    }

    /**
     * Counts a write that did not run through this class's synchronous calls (a provider's own
     * pipelined async path), with its latency since {@code startNanos} ({@link System#nanoTime()}).
     */
    protected final void countWrite(long startNanos) {
        writeLatency.record(System.nanoTime() - startNanos);
    }

    protected final void countCompression(long before, long after) {
        bytesBefore.add(before);
        bytesAfter.add(after);
    }

    protected final Executor asyncExecutor() {
        return asyncExecutor;
    }

    /** Throws {@link StoreClosedException} once this store or its owner is closed. */
    protected final void ensureOpen() {
        if (closed || isOwnerClosed()) {
            throw new StoreClosedException(describe());
        }
    }

    protected final boolean isClosed() {
        return closed || isOwnerClosed();
    }

    // ---- the EntityStore contract ------------------------------------------------------------

    @Override
    public final String typeName() {
        return typeName;
    }

    @Override
    public final Optional<Versioned<T>> get(String id) {
        return read(() -> doGet(EntityIds.requireValidId(id)));
    }

    @Override
    public final Map<String, Versioned<T>> getMany(Collection<String> ids) {
        Objects.requireNonNull(ids, "ids");
        List<String> checked = new ArrayList<>(ids.size());
        for (String id : ids) {
            checked.add(EntityIds.requireValidId(id));
        }
        return read(() -> doGetMany(checked));
    }

    @Override
    public final boolean exists(String id) {
        return read(() -> doExists(EntityIds.requireValidId(id)));
    }

    @Override
    public final long save(String id, T entity) {
        requireSaveArguments(id, entity);
        return write(() -> doSave(id, entity, ANY_VERSION));
    }

    @Override
    public final long save(String id, T entity, long expectedVersion) {
        requireSaveArguments(id, entity);
        requireExpectedVersion(expectedVersion);
        return write(() -> doSave(id, entity, expectedVersion));
    }

    @Override
    public final boolean delete(String id) {
        EntityIds.requireValidId(id);
        return write(() -> doDelete(id, ANY_VERSION));
    }

    @Override
    public final void delete(String id, long expectedVersion) {
        EntityIds.requireValidId(id);
        requireExpectedVersion(expectedVersion);
        if (expectedVersion == Versioned.ABSENT) {
            throw new IllegalArgumentException("delete of " + typeName + "/" + id
                    + " with expected version 0 (absent) can never delete anything; pass the stored version");
        }
        write(() -> doDelete(id, expectedVersion));
    }

    @Override
    public final List<Versioned<T>> getAll() {
        return read(() -> doGetAll(null));
    }

    @Override
    public final List<Versioned<T>> getAll(Predicate<? super T> filter) {
        Objects.requireNonNull(filter, "filter");
        return read(() -> doGetAll(filter));
    }

    @Override
    public final long count() {
        return read(() -> doCount(null));
    }

    @Override
    public final long count(Predicate<? super T> filter) {
        Objects.requireNonNull(filter, "filter");
        return read(() -> doCount(filter));
    }

    @Override
    public final long clear() {
        return write(this::doClear);
    }

    @Override
    public final Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        Map<String, T> checked = checkedBatch(entities);
        if (checked.isEmpty()) {
            ensureOpen();
            return Map.of();
        }
        return write(() -> doSaveBatch(checked));
    }

    @Override
    public PerformanceMetrics performanceMetrics() {
        return new PerformanceMetrics(
                readLatency.count(), writeLatency.count(),
                readLatency.average(), readLatency.percentile(0.5), readLatency.percentile(0.99),
                writeLatency.average(), writeLatency.percentile(0.5), writeLatency.percentile(0.99),
                cacheHits.sum(), cacheMisses.sum(), retries.sum(), conflicts.sum(),
                bytesBefore.sum(), bytesAfter.sum());
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        doClose();
    }

    // ---- async twins -------------------------------------------------------------------------

    protected final <R> CompletableFuture<R> async(Supplier<R> call) {
        if (isClosed()) {
            return CompletableFuture.failedFuture(new StoreClosedException(describe()));
        }
        try {
            return CompletableFuture.supplyAsync(call, asyncExecutor);
        } catch (PersistenceException e) { // an executor that says why itself (e.g. StoreClosedException)
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException refused) { // RejectedExecutionException, or whatever an executor throws instead
            // the executor shuts down with the store: a rejection racing close() is a closed store
            return CompletableFuture.failedFuture(isClosed() ? new StoreClosedException(describe()) : refusedByExecutor(refused));
        }
    }

    /**
     * Runs {@code take} on the calling thread, where it checks and takes the call's arguments (copies
     * collections, encodes entities), then the call it returns on the executor: a change the caller makes
     * to its arguments once the twin returned is not seen. What {@code take} throws fails the future, as
     * the call would on the executor.
     */
    private <R> CompletableFuture<R> asyncTaking(Supplier<Supplier<R>> take) {
        if (isClosed()) {
            return CompletableFuture.failedFuture(new StoreClosedException(describe()));
        }
        Supplier<R> call;
        try {
            call = take.get();
        } catch (RuntimeException | Error e) { // an async call never throws directly (a map changed while copied, too)
            return CompletableFuture.failedFuture(e);
        }
        return async(call);
    }

    /**
     * The error of an async call whose executor refused to run it (saturated, or shut down while the
     * store is open): nothing was done, and a later call may be taken, so it is retryable.
     */
    private StoreUnavailableException refusedByExecutor(RuntimeException refused) {
        return new StoreUnavailableException(describe() + ": the call was not run, because the store's executor refused the task ("
                + refused + ": the executor is saturated or shut down); nothing was done: try again later", refused, false);
    }

    @Override
    public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) {
        return async(() -> get(id));
    }

    @Override
    public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) {
        return asyncTaking(() -> {
            List<String> taken = ids == null ? null : new ArrayList<>(ids); // nulls kept: getMany reports them
            return () -> getMany(taken);
        });
    }

    @Override
    public CompletableFuture<Boolean> existsAsync(String id) {
        return async(() -> exists(id));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        return asyncTaking(() -> {
            requireSaveArguments(id, entity);
            LongSupplier taken = takeForSave(id, entity, ANY_VERSION);
            return () -> write(taken::getAsLong);
        });
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        return asyncTaking(() -> {
            requireSaveArguments(id, entity);
            requireExpectedVersion(expectedVersion);
            LongSupplier taken = takeForSave(id, entity, expectedVersion);
            return () -> write(taken::getAsLong);
        });
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String id) {
        return async(() -> delete(id));
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String id, long expectedVersion) {
        return async(() -> {
            delete(id, expectedVersion);
            return null;
        });
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync() {
        return async(this::getAll);
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> filter) {
        return async(() -> getAll(filter));
    }

    @Override
    public CompletableFuture<Long> countAsync() {
        return async(this::count);
    }

    @Override
    public CompletableFuture<Long> countAsync(Predicate<? super T> filter) {
        return async(() -> count(filter));
    }

    @Override
    public CompletableFuture<Long> clearAsync() {
        return async(this::clear);
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return asyncTaking(() -> {
            Map<String, T> checked = checkedBatch(entities);
            if (checked.isEmpty()) {
                return () -> saveBatch(checked);
            }
            Supplier<Map<String, Long>> taken = takeForBatch(checked);
            return () -> write(taken);
        });
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static void requireSaveArguments(String id, Object entity) {
        EntityIds.requireValidId(id);
        Objects.requireNonNull(entity, "entity");
    }

    /** A copy of a batch, in entry order, once every id and entity is checked. */
    private Map<String, T> checkedBatch(Map<String, ? extends T> entities) {
        Objects.requireNonNull(entities, "entities");
        Map<String, T> checked = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends T> e : entities.entrySet()) {
            EntityIds.requireValidId(e.getKey());
            checked.put(e.getKey(), Objects.requireNonNull(e.getValue(), () -> "entity for id " + e.getKey()));
        }
        return checked;
    }

    private void requireExpectedVersion(long expectedVersion) {
        if (expectedVersion < Versioned.ABSENT) {
            throw new IllegalArgumentException("expected version of a " + typeName
                    + " must be 0 (absent) or a stored version (1 or more), got " + expectedVersion);
        }
    }

    private <R> R read(Supplier<R> call) {
        ensureOpen();
        long start = System.nanoTime();
        try {
            return call.get();
        } finally {
            readLatency.record(System.nanoTime() - start);
        }
    }

    private <R> R write(Supplier<R> call) {
        ensureOpen();
        long start = System.nanoTime();
        try {
            return call.get();
        } catch (ConcurrencyConflictException e) {
            conflicts.increment();
            throw e;
        } finally {
            countWrite(start);
        }
    }
}
