package dev.reliablestore.cluster;

import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.EntityRecords.Current;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A store's view of its type's local cache, in front of another {@link EntityValues}: hits are
 * answered from the {@link EntityCache} the factory keeps for the type (shared by every store of the
 * type, see TypeCaches), misses are read through and cached, and the registry change feed of the
 * type invalidates entries (see EntityCache for why a cached value is never stale). Hits and misses
 * count in this store's metrics.
 */
final class CachedValues implements EntityValues {

    private final EntityValues registry;
    private final TypeCaches.Handle handle;
    private final EntityCache cache;
    private final Runnable hit;
    private final Runnable miss;

    /** {@code hit} and {@code miss} count in the store's metrics; {@code handle} is released by {@link #close()}. */
    CachedValues(EntityValues registry, TypeCaches.Handle handle, Runnable hit, Runnable miss) {
        this.registry = registry;
        this.handle = handle;
        this.cache = handle.cache();
        this.hit = hit;
        this.miss = miss;
    }

    @Override
    public Found get(List<String> ids) {
        Map<String, Decoded> found = new LinkedHashMap<>();
        List<String> misses = new ArrayList<>();
        for (String id : ids) {
            EntityCache.Entry e = cache.get(id);
            if (e != null && e.isHit()) {
                hit.run();
                if (!e.isTombstone()) {
                    found.put(id, new Decoded(e.json(), e.version(), e.revision(), e));
                }
            } else {
                miss.run();
                misses.add(id);
            }
        }
        if (misses.isEmpty()) {
            return new Found(found, -1);
        }
        Found read = registry.get(misses);
        read.values().forEach((id, d) -> written(id, d, read.sequence()));
        found.putAll(read.values());
        return new Found(found, read.sequence());
    }

    @Override
    public Found all() {
        Found read = registry.all();
        read.values().forEach((id, d) -> written(id, d, read.sequence()));
        return read;
    }

    @Override
    public boolean exists(String id) {
        EntityCache.Entry e = cache.get(id);
        if (e != null && e.isHit()) {
            hit.run();
            return !e.isTombstone();
        }
        miss.run();
        return registry.exists(id);
    }

    @Override
    public Current known(String id) {
        EntityCache.Entry e = cache.get(id);
        if (e == null || !e.isHit()) {
            return null;
        }
        return e.isTombstone() ? Current.ABSENT : new Current(e.version(), e.revision());
    }

    @Override
    public void written(String id, Decoded value, long sequence) {
        cache.fill(id, new EntityCache.Entry(value.json(), value.version(), value.revision()), sequence);
    }

    @Override
    public void deleted(String id, long sequence) {
        cache.deleted(id, sequence);
    }

    @Override
    public void unsettled(String id) {
        cache.unsettled(id);
    }

    @Override
    public void unsettledAll() {
        cache.unsettledAll();
    }

    @Override
    public void seen(String id, Current current, long sequence) {
        cache.seen(id, current.version() == Versioned.ABSENT, current.revision(), sequence);
    }

    @Override
    public void seenAll(Function<String, Current> found, long sequence) {
        cache.seenAll(id -> {
            Current c = found.apply(id);
            if (c == null) {
                return null;
            }
            return c.version() == Versioned.ABSENT ? EntityCache.Entry.tombstone(sequence) : EntityCache.Entry.fence(c.revision());
        }, sequence);
    }

    @Override
    public void cleared(long sequence) {
        cache.cleared(sequence);
    }

    @Override
    public long cachedEntries() {
        return cache.size();
    }

    @Override
    public void close() {
        handle.release();
    }
}
