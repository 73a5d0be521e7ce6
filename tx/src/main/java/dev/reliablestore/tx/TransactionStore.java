package dev.reliablestore.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.Versioned;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A store of an enlisted resource as the user holds it: the participant's transactional view, behind
 * a check of the transaction's status. Once the transaction is no longer active every call is
 * refused with a {@link dev.reliablestore.api.TransactionStateException} that names the transaction
 * by its {@link Transaction#id()} and says why it ended (e.g. its timeout passed), rather than the
 * view's own "closed" error, which knows only its branch. A version conflict the view reports "as
 * seen by" its branch is reported as seen by the transaction, so that every message names the
 * transaction the user holds, by one id.
 */
final class TransactionStore<T> implements EntityStore<T> {

    private final LocalTransaction transaction;
    private final EntityStore<T> view;
    /** How the view names its branch in conflicts, e.g. "(as seen by transaction TransactionId[...])". */
    private final String branchSuffix;

    TransactionStore(LocalTransaction transaction, EntityStore<T> view, String branchName) {
        this.transaction = transaction;
        this.view = view;
        this.branchSuffix = "(as seen by transaction " + branchName + ")";
    }

    private <R> R call(String operation, Supplier<R> call) {
        return transaction.serialized(() -> {
            transaction.requireUsable(view.typeName(), operation);
            try {
                return call.get();
            } catch (RuntimeException e) {
                throw (RuntimeException) translated(operation, e);
            }
        });
    }

    private void run(String operation, Runnable call) {
        call(operation, () -> {
            call.run();
            return null;
        });
    }

    private <R> CompletableFuture<R> async(String operation, Supplier<CompletableFuture<R>> call) {
        try {
            CompletableFuture<R> started = transaction.serialized(() -> {
                transaction.requireUsable(view.typeName(), operation);
                return call.get();
            });
            return started.exceptionallyCompose(e -> CompletableFuture.failedFuture(translated(operation,
                    e instanceof CompletionException && e.getCause() != null ? e.getCause() : e)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(translated(operation, e));
        }
    }

    /** The view refusing a call because the transaction ended meanwhile (e.g. timed out): say so. */
    private Throwable translated(String operation, Throwable failure) {
        if ((failure instanceof StoreClosedException || failure instanceof IllegalStateException)
                && transaction.status() != TransactionStatus.ACTIVE) {
            RuntimeException ended = transaction.endedError(view.typeName(), operation);
            ended.initCause(failure);
            return ended;
        }
        if (failure instanceof ConcurrencyConflictException c && c.getMessage().endsWith(branchSuffix)) {
            ConcurrencyConflictException named = new ConcurrencyConflictException(c.typeName(), c.id(),
                    c.expectedVersion(), c.actualVersion(), "as seen by transaction " + transaction.id());
            named.initCause(c);
            return named;
        }
        return failure;
    }

    @Override
    public String typeName() {
        return view.typeName();
    }

    @Override
    public Optional<Versioned<T>> get(String id) {
        return call("get", () -> view.get(id));
    }

    @Override
    public Map<String, Versioned<T>> getMany(Collection<String> ids) {
        return call("getMany", () -> view.getMany(ids));
    }

    @Override
    public boolean exists(String id) {
        return call("exists", () -> view.exists(id));
    }

    @Override
    public long save(String id, T entity) {
        return call("save", () -> view.save(id, entity));
    }

    @Override
    public long save(String id, T entity, long expectedVersion) {
        return call("save", () -> view.save(id, entity, expectedVersion));
    }

    @Override
    public boolean delete(String id) {
        return call("delete", () -> view.delete(id));
    }

    @Override
    public void delete(String id, long expectedVersion) {
        run("delete", () -> view.delete(id, expectedVersion));
    }

    @Override
    public List<Versioned<T>> getAll() {
        return call("getAll", view::getAll);
    }

    @Override
    public List<Versioned<T>> getAll(Predicate<? super T> filter) {
        return call("getAll", () -> view.getAll(filter));
    }

    @Override
    public long count() {
        return call("count", view::count);
    }

    @Override
    public long count(Predicate<? super T> filter) {
        return call("count", () -> view.count(filter));
    }

    @Override
    public long clear() {
        return call("clear", view::clear);
    }

    @Override
    public Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        return call("saveBatch", () -> view.saveBatch(entities));
    }

    @Override
    public PerformanceMetrics performanceMetrics() {
        return view.performanceMetrics();
    }

    @Override
    public <S> S unwrap(Class<S> type) {
        return type.isInstance(this) ? type.cast(this) : view.unwrap(type);
    }

    /** Closes the view; the transaction goes on. */
    @Override
    public void close() {
        view.close();
    }

    @Override
    public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) {
        return async("getAsync", () -> view.getAsync(id));
    }

    @Override
    public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) {
        return async("getManyAsync", () -> view.getManyAsync(ids));
    }

    @Override
    public CompletableFuture<Boolean> existsAsync(String id) {
        return async("existsAsync", () -> view.existsAsync(id));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        return async("saveAsync", () -> view.saveAsync(id, entity));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        return async("saveAsync", () -> view.saveAsync(id, entity, expectedVersion));
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String id) {
        return async("deleteAsync", () -> view.deleteAsync(id));
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String id, long expectedVersion) {
        return async("deleteAsync", () -> view.deleteAsync(id, expectedVersion));
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync() {
        return async("getAllAsync", view::getAllAsync);
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> filter) {
        return async("getAllAsync", () -> view.getAllAsync(filter));
    }

    @Override
    public CompletableFuture<Long> countAsync() {
        return async("countAsync", view::countAsync);
    }

    @Override
    public CompletableFuture<Long> countAsync(Predicate<? super T> filter) {
        return async("countAsync", () -> view.countAsync(filter));
    }

    @Override
    public CompletableFuture<Long> clearAsync() {
        return async("clearAsync", view::clearAsync);
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return async("saveBatchAsync", () -> view.saveBatchAsync(entities));
    }

    @Override
    public String toString() {
        return "store " + view.typeName() + " of transaction " + transaction.id();
    }
}
