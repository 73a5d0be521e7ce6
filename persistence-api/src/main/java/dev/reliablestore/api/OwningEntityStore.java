package dev.reliablestore.api;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The store handed out by {@link Persistence#open}: it owns the factory opened for it, so that
 * closing the one store the caller sees also releases the connection behind it.
 */
final class OwningEntityStore<T> implements EntityStore<T> {

    private final EntityStore<T> store;
    private final StoreFactory factory;

    OwningEntityStore(EntityStore<T> store, StoreFactory factory) {
        this.store = store;
        this.factory = factory;
    }

    @Override
    public <S> S unwrap(Class<S> type) {
        return type.isInstance(this) ? type.cast(this) : store.unwrap(type);
    }

    @Override
    public String typeName() {
        return store.typeName();
    }

    @Override
    public Optional<Versioned<T>> get(String id) {
        return store.get(id);
    }

    @Override
    public Map<String, Versioned<T>> getMany(Collection<String> ids) {
        return store.getMany(ids);
    }

    @Override
    public boolean exists(String id) {
        return store.exists(id);
    }

    @Override
    public long save(String id, T entity) {
        return store.save(id, entity);
    }

    @Override
    public long save(String id, T entity, long expectedVersion) {
        return store.save(id, entity, expectedVersion);
    }

    @Override
    public boolean delete(String id) {
        return store.delete(id);
    }

    @Override
    public void delete(String id, long expectedVersion) {
        store.delete(id, expectedVersion);
    }

    @Override
    public List<Versioned<T>> getAll() {
        return store.getAll();
    }

    @Override
    public List<Versioned<T>> getAll(Predicate<? super T> filter) {
        return store.getAll(filter);
    }

    @Override
    public long count() {
        return store.count();
    }

    @Override
    public long count(Predicate<? super T> filter) {
        return store.count(filter);
    }

    @Override
    public long clear() {
        return store.clear();
    }

    @Override
    public Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        return store.saveBatch(entities);
    }

    @Override
    public PerformanceMetrics performanceMetrics() {
        return store.performanceMetrics();
    }

    @Override
    public boolean mergesStaleSaves() {
        return store.mergesStaleSaves();
    }

    @Override
    public boolean whenTransactionEnds(java.util.function.Consumer<Boolean> onEnd) {
        return store.whenTransactionEnds(onEnd);
    }

    @Override
    public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) {
        return store.getAsync(id);
    }

    @Override
    public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) {
        return store.getManyAsync(ids);
    }

    @Override
    public CompletableFuture<Boolean> existsAsync(String id) {
        return store.existsAsync(id);
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        return store.saveAsync(id, entity);
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        return store.saveAsync(id, entity, expectedVersion);
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String id) {
        return store.deleteAsync(id);
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String id, long expectedVersion) {
        return store.deleteAsync(id, expectedVersion);
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync() {
        return store.getAllAsync();
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> filter) {
        return store.getAllAsync(filter);
    }

    @Override
    public CompletableFuture<Long> countAsync() {
        return store.countAsync();
    }

    @Override
    public CompletableFuture<Long> countAsync(Predicate<? super T> filter) {
        return store.countAsync(filter);
    }

    @Override
    public CompletableFuture<Long> clearAsync() {
        return store.clearAsync();
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return store.saveBatchAsync(entities);
    }

    @Override
    public void close() {
        try {
            store.close();
        } finally {
            factory.close();
        }
    }

    @Override
    public String toString() {
        return store.toString();
    }
}
