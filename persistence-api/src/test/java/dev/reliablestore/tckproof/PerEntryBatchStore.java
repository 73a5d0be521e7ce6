package dev.reliablestore.tckproof;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.Versioned;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/** The naive batch: one save per entry, so a failing entry leaves the ones before it written. */
final class PerEntryBatchStore<T> implements EntityStore<T> {

    private final EntityStore<T> store;

    PerEntryBatchStore(EntityStore<T> store) {
        this.store = store;
    }

    @Override
    public Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        Map<String, Long> versions = new LinkedHashMap<>();
        entities.forEach((id, e) -> versions.put(id, store.save(id, e)));
        return versions;
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return CompletableFuture.supplyAsync(() -> saveBatch(entities));
    }

    @Override public String typeName() { return store.typeName(); }
    @Override public Optional<Versioned<T>> get(String id) { return store.get(id); }
    @Override public Map<String, Versioned<T>> getMany(Collection<String> ids) { return store.getMany(ids); }
    @Override public boolean exists(String id) { return store.exists(id); }
    @Override public long save(String id, T entity) { return store.save(id, entity); }
    @Override public long save(String id, T entity, long expectedVersion) { return store.save(id, entity, expectedVersion); }
    @Override public boolean delete(String id) { return store.delete(id); }
    @Override public void delete(String id, long expectedVersion) { store.delete(id, expectedVersion); }
    @Override public List<Versioned<T>> getAll() { return store.getAll(); }
    @Override public List<Versioned<T>> getAll(Predicate<? super T> filter) { return store.getAll(filter); }
    @Override public long count() { return store.count(); }
    @Override public long count(Predicate<? super T> filter) { return store.count(filter); }
    @Override public long clear() { return store.clear(); }
    @Override public PerformanceMetrics performanceMetrics() { return store.performanceMetrics(); }
    @Override public void close() { store.close(); }
    @Override public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) { return store.getAsync(id); }
    @Override public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) { return store.getManyAsync(ids); }
    @Override public CompletableFuture<Boolean> existsAsync(String id) { return store.existsAsync(id); }
    @Override public CompletableFuture<Long> saveAsync(String id, T entity) { return store.saveAsync(id, entity); }
    @Override public CompletableFuture<Long> saveAsync(String id, T entity, long v) { return store.saveAsync(id, entity, v); }
    @Override public CompletableFuture<Boolean> deleteAsync(String id) { return store.deleteAsync(id); }
    @Override public CompletableFuture<Void> deleteAsync(String id, long v) { return store.deleteAsync(id, v); }
    @Override public CompletableFuture<List<Versioned<T>>> getAllAsync() { return store.getAllAsync(); }
    @Override public CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> f) { return store.getAllAsync(f); }
    @Override public CompletableFuture<Long> countAsync() { return store.countAsync(); }
    @Override public CompletableFuture<Long> countAsync(Predicate<? super T> f) { return store.countAsync(f); }
    @Override public CompletableFuture<Long> clearAsync() { return store.clearAsync(); }
}
