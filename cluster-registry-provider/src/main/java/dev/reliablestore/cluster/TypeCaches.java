package dev.reliablestore.cluster;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.Watch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The local caches of one factory: one {@link EntityCache} per entity type (type name), with the one
 * change-feed watch that invalidates it, shared by every store of the type the factory opens. The
 * first store of a type opens them, the last one to close closes the watch (the factory closes its
 * stores when it closes); a store opened after that starts a new, empty cache.
 */
final class TypeCaches {

    private static final Logger LOG = LoggerFactory.getLogger(TypeCaches.class);

    /** One type's cache and watch, and how many open stores use them. */
    private static final class Shared {

        private final String typeName;
        private final EntityCache cache;
        private Watch watch;
        /** Guarded by the map's lock of the type's bin (compute). */
        private int users;

        private Shared(String typeName, EntityCache cache) {
            this.typeName = typeName;
            this.cache = cache;
        }
    }

    /** One store's use of a shared cache; {@link #release()} once. */
    final class Handle {

        private final Shared shared;
        private final boolean first;
        private boolean released;

        private Handle(Shared shared, boolean first) {
            this.shared = shared;
            this.first = first;
        }

        EntityCache cache() {
            return shared.cache;
        }

        /** Whether this store opened the type's cache (the others found it open). */
        boolean first() {
            return first;
        }

        synchronized void release() {
            if (!released) {
                released = true;
                TypeCaches.this.release(shared);
            }
        }
    }

    private final RegistryGateway gateway;
    private final ClusterPersistenceConfiguration config;
    private final ConcurrentHashMap<String, Shared> caches = new ConcurrentHashMap<>();

    TypeCaches(RegistryGateway gateway, ClusterPersistenceConfiguration config) {
        this.gateway = gateway;
        this.config = config;
    }

    /** The cache of {@code records}' type, opened with its watch if no open store of the type has it. */
    Handle acquire(EntityRecords records) {
        boolean[] first = {false};
        Shared s = caches.compute(records.typeName(), (name, open) -> {
            Shared use = open;
            if (use == null) {
                use = open(records);
                first[0] = true;
            }
            use.users++;
            return use;
        });
        return new Handle(s, first[0]);
    }

    private Shared open(EntityRecords records) {
        EntityCache cache = new EntityCache(config.cacheSize(), config.cacheTTL(), records.key(), records.versionsKey());
        Shared s = new Shared(records.typeName(), cache);
        s.watch = gateway.watch(records.key(), new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                cache.onBatch(batch);
            }

            @Override
            public void onResync(String reason) {
                // first: reading the sequence may take up to failoverTimeout, and nothing stale is served meanwhile
                cache.resyncAtAnUnknownPoint();
                long now;
                try {
                    now = gateway.currentSequence();
                } catch (RuntimeException unread) {
                    // thrown at the dispatcher, the stale entries would stay until they expire
                    LOG.warn("the cache of {} was emptied: its change feed missed batches ({}) and the registry's sequence could not be"
                            + " read ({}); reads go to the registry until the next change arrives", records.typeName(), reason,
                            unread.toString());
                    return;
                }
                cache.resync(now);
            }
        });
        cache.start(s.watch.startSequence());
        return s;
    }

    private void release(Shared s) {
        Watch[] closing = {null};
        caches.computeIfPresent(s.typeName, (name, open) -> {
            if (open != s) {
                return open;
            }
            if (--s.users > 0) {
                return s;
            }
            closing[0] = s.watch;
            return null;
        });
        if (closing[0] != null) {
            closing[0].close();
        }
    }

    /** Types with an open cache (tests). */
    int open() {
        return caches.size();
    }
}
