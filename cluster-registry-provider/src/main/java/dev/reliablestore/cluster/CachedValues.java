package dev.reliablestore.cluster;

import dev.reliablestore.cluster.EntityRecords.Current;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.Watch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local cache in front of another {@link EntityValues}: hits are answered from the
 * {@link EntityCache}, misses are read through and cached, and the registry change feed of the
 * type invalidates entries (see EntityCache for why a cached value is never stale).
 */
final class CachedValues implements EntityValues {

    private final EntityValues registry;
    private final RegistryGateway gateway;
    private final EntityCache cache;
    private final Watch watch;
    private final Runnable hit;
    private final Runnable miss;

    /** {@code hit} and {@code miss} count in the store's metrics. */
    CachedValues(EntityValues registry, EntityRecords records, RegistryGateway gateway, ClusterPersistenceConfiguration config,
                 Runnable hit, Runnable miss) {
        this.registry = registry;
        this.gateway = gateway;
        this.hit = hit;
        this.miss = miss;
        this.cache = new EntityCache(config.cacheSize(), config.cacheTTL(), records.key(), records.versionsKey());
        this.watch = gateway.watch(records.key(), new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                cache.onBatch(batch);
            }

            @Override
            public void onResync(String reason) {
                cache.resync(gateway.currentSequence());
            }
        });
        cache.start(watch.startSequence());
    }

    @Override
    public Found get(List<String> ids) {
        Map<String, Decoded> found = new LinkedHashMap<>();
        List<String> misses = new ArrayList<>();
        for (String id : ids) {
            EntityCache.Entry e = cache.get(id);
            if (e != null) {
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
        if (e != null) {
            hit.run();
            return !e.isTombstone();
        }
        return registry.exists(id);
    }

    @Override
    public Current known(String id) {
        EntityCache.Entry e = cache.get(id);
        if (e == null) {
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
    public void cleared() {
        cache.resync(gateway.currentSequence());
    }

    @Override
    public long cachedEntries() {
        return cache.size();
    }

    @Override
    public void close() {
        watch.close();
    }
}
