package dev.reliablestore.tckproof;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.Versioned;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * Defects a provider that implements {@link EntityStore} itself (without the SPI's base class)
 * could have: a batch saved entry by entry, bad ids quietly "repaired", negative expected
 * versions taken as "any", an empty batch refused, a second close that throws.
 */
final class BrokenApiStore<T> implements EntityStore<T> {

    private final EntityStore<T> store;
    private final Set<Breakage> breakages;
    private boolean closedOnce;

    BrokenApiStore(EntityStore<T> store, Set<Breakage> breakages) {
        this.store = store;
        this.breakages = breakages;
    }

    /** Turns any string into a valid id, as a provider that "sanitises" instead of refusing would. */
    static String repair(String id) {
        if (id == null || id.isEmpty()) {
            return "_";
        }
        String s = id.replaceAll("[/\\\\\\p{Cc}]", "_");
        return s.length() > 255 ? s.substring(0, 255) : s;
    }

    private String id(String id) {
        return breakages.contains(Breakage.ACCEPTS_BAD_IDS) ? repair(id) : id;
    }

    @Override
    public Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        if (breakages.contains(Breakage.EMPTY_BATCH_REJECTED) && entities.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        if (!breakages.contains(Breakage.NON_ATOMIC_BATCH)) {
            Map<String, T> repaired = new LinkedHashMap<>();
            entities.forEach((id, e) -> repaired.put(id(id), e));
            return store.saveBatch(repaired);
        }
        Map<String, Long> versions = new LinkedHashMap<>();
        entities.forEach((id, e) -> versions.put(id, store.save(id(id), e)));
        return versions;
    }

    @Override
    public long save(String id, T entity, long expectedVersion) {
        if (breakages.contains(Breakage.NEGATIVE_VERSION_MEANS_ANY) && expectedVersion < 0) {
            return store.save(id(id), entity);
        }
        return store.save(id(id), entity, expectedVersion);
    }

    @Override
    public void close() {
        if (closedOnce && breakages.contains(Breakage.CLOSE_TWICE_THROWS)) {
            throw new IllegalStateException("already closed");
        }
        closedOnce = true;
        store.close();
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return CompletableFuture.supplyAsync(() -> saveBatch(entities));
    }

    @Override public String typeName() { return store.typeName(); }
    @Override public Optional<Versioned<T>> get(String id) { return store.get(id(id)); }
    @Override public Map<String, Versioned<T>> getMany(Collection<String> ids) { return store.getMany(breakages.contains(Breakage.ACCEPTS_BAD_IDS) ? ids.stream().map(BrokenApiStore::repair).toList() : ids); }
    @Override public boolean exists(String id) { return store.exists(id(id)); }
    @Override public long save(String id, T entity) { return store.save(id(id), entity); }
    @Override public boolean delete(String id) { return store.delete(id(id)); }
    @Override public void delete(String id, long expectedVersion) { store.delete(id(id), expectedVersion); }
    @Override public List<Versioned<T>> getAll() { return store.getAll(); }
    @Override public List<Versioned<T>> getAll(Predicate<? super T> filter) { return store.getAll(filter); }
    @Override public long count() { return store.count(); }
    @Override public long count(Predicate<? super T> filter) { return store.count(filter); }
    @Override public long clear() { return store.clear(); }
    @Override public PerformanceMetrics performanceMetrics() { return store.performanceMetrics(); }
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
