package dev.reliablestore.api;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * A store of entities of one type, addressed by id.
 *
 * <h2>Ids</h2>
 * An id is 1..255 characters with no {@code /}, no {@code \} and no control character; see
 * {@link EntityIds}. A bad id is rejected with {@link InvalidIdException} before any I/O.
 *
 * <h2>Versions</h2>
 * Every stored entity carries a version. The first save of an id gives version 1 and every later
 * save adds one. {@link Versioned#ABSENT} (0) stands for "no entity": passing it as the expected
 * version of a save means "create only, fail if the id exists". A save or delete with an expected
 * version that is not the stored one fails with {@link ConcurrencyConflictException} and writes
 * nothing. After a delete the id is free again and a new save starts at version 1.
 *
 * <h2>Errors</h2>
 * Every failure is a {@link PersistenceException}: {@link ConcurrencyConflictException},
 * {@link EntityTooLargeException}, {@link InvalidIdException}, {@link StoreUnavailableException}
 * (retryable), {@link DataIntegrityException}, {@link StoreClosedException}. Any failed write leaves
 * the stored data as it was.
 *
 * <h2>Async twins</h2>
 * Each operation has an {@code …Async} twin returning a {@link CompletableFuture}. It completes
 * exceptionally with the same exception the synchronous call would throw (argument checks too: an
 * async call never throws directly).
 *
 * <p>A twin takes its arguments when it is called, not when it runs: before it returns, the ids
 * and maps given to it are copied and the entities of a save taken (encoded), so the caller may change
 * or reuse them at once — clear the map given to {@code saveBatchAsync}, change the object given to
 * {@code saveAsync} — and what is written is what they held at the call. A failure of that (a map
 * another thread changes while it is copied, an entity that cannot be encoded) fails the future.
 *
 * <p>Implementations are thread-safe. Closing a store releases its resources; any call after that
 * fails with {@link StoreClosedException}.
 *
 * @param <T> the entity type
 */
public interface EntityStore<T> extends AutoCloseable {

    /** The entity type name this store keeps, e.g. {@code Customer}. */
    String typeName();

    /** The entity's current value and version, or empty when the id holds no entity. */
    Optional<Versioned<T>> get(String id);

    /**
     * The entities of the given ids that exist, keyed by id, in the iteration order of {@code ids}.
     * Missing ids are simply absent from the result. Every id is validated before any read.
     */
    Map<String, Versioned<T>> getMany(Collection<String> ids);

    /**
     * Whether the id holds an entity. A provider may answer without reading the entity: one whose
     * stored data is damaged may exist, while {@link #get} of it fails with {@link DataIntegrityException}.
     */
    boolean exists(String id);

    /**
     * Stores the entity unconditionally (creating or replacing it).
     *
     * @return the new version
     */
    long save(String id, T entity);

    /**
     * Stores the entity only if the stored version equals {@code expectedVersion}
     * ({@link Versioned#ABSENT} = must not exist yet).
     *
     * @return the new version, {@code expectedVersion + 1}
     * @throws ConcurrencyConflictException when the stored version differs; nothing is written
     */
    long save(String id, T entity, long expectedVersion);

    /**
     * Deletes the entity.
     *
     * @return {@code true} if an entity was deleted, {@code false} if the id held none (a missing
     *         id is reported this way, never as an error and never silently)
     */
    boolean delete(String id);

    /**
     * Deletes the entity only if its stored version equals {@code expectedVersion}.
     *
     * @throws ConcurrencyConflictException when the stored version differs, including when the id
     *         holds no entity (actual version {@link Versioned#ABSENT}); nothing is deleted
     */
    void delete(String id, long expectedVersion);

    /** Every entity of this type, ordered by id. */
    List<Versioned<T>> getAll();

    /** Every entity of this type whose value matches the filter, ordered by id. */
    List<Versioned<T>> getAll(Predicate<? super T> filter);

    /** How many entities of this type are stored. */
    long count();

    /** How many entities of this type match the filter. */
    long count(Predicate<? super T> filter);

    /**
     * Deletes every entity of this type. Not atomic on every provider: one that fails after deleting
     * some entities says so with {@link PersistenceException#outcomeUnknown()} true.
     *
     * @return how many were removed
     */
    long clear();

    /**
     * Stores all entries unconditionally as one atomic write: either every entry is stored or,
     * on any failure (a bad id, an entity too large, an I/O error), none is — unless the error's
     * {@link PersistenceException#outcomeUnknown()} is true: then all of them may be (e.g. the batch
     * was committed and its answer lost); read to find out.
     *
     * @return the new version of each id, in the iteration order of {@code entities}
     */
    Map<String, Long> saveBatch(Map<String, ? extends T> entities);

    /** Latency, cache and conflict figures measured by this store since it was opened. */
    PerformanceMetrics performanceMetrics();

    /**
     * Whether a save whose expected version is stale may be merged with the stored entity, and so
     * store a value other than the one given, instead of failing with
     * {@link ConcurrencyConflictException}: true only where the provider is configured to merge
     * conflicts (the cluster-registry provider's {@code conflictResolution=Merge}). A caller that
     * keeps the version it saved beside its own object (an object mapper's version field) cannot
     * tell from the version alone whether its object holds what was stored when this is true.
     */
    default boolean mergesStaleSaves() {
        return false;
    }

    /**
     * When this store joins the calling thread's ambient transaction (a store that joins JTA
     * transactions, inside one), registers {@code onEnd} to run once that transaction has ended, with
     * {@code true} if it committed, and returns true; otherwise registers nothing and returns false:
     * a store whose writes take effect at once, and a store of a transaction the caller holds itself
     * (a local transaction's, whose end the caller sees when it commits or rolls back). For a caller
     * that wrote a new version into its own object on a buffered save: the object must get its old
     * version back when the transaction rolls back, or saving it again would expect a version another
     * writer may have written. {@code onEnd} may run on another thread (a transaction timeout).
     */
    default boolean whenTransactionEnds(java.util.function.Consumer<Boolean> onEnd) {
        return false;
    }

    /**
     * This store seen as a provider-specific interface, such as {@link ObservableStore} or a
     * provider's own store class.
     *
     * @throws IllegalArgumentException when the store is not of that type
     */
    default <S> S unwrap(Class<S> type) {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new IllegalArgumentException(getClass().getName() + " is not a " + type.getName());
    }

    /** Closes the store; later calls fail with {@link StoreClosedException}. Idempotent. */
    @Override
    void close();

    CompletableFuture<Optional<Versioned<T>>> getAsync(String id);

    CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids);

    CompletableFuture<Boolean> existsAsync(String id);

    CompletableFuture<Long> saveAsync(String id, T entity);

    CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion);

    CompletableFuture<Boolean> deleteAsync(String id);

    CompletableFuture<Void> deleteAsync(String id, long expectedVersion);

    CompletableFuture<List<Versioned<T>>> getAllAsync();

    CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> filter);

    CompletableFuture<Long> countAsync();

    CompletableFuture<Long> countAsync(Predicate<? super T> filter);

    CompletableFuture<Long> clearAsync();

    CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities);
}
