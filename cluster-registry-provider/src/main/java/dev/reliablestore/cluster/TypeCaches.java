package dev.reliablestore.cluster;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.Watch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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

    /** How long after a resync whose sequence could not be read the sequence is read again. */
    static final Duration RESYNC_RETRY = Duration.ofSeconds(1);

    private final RegistryGateway gateway;
    private final ClusterPersistenceConfiguration config;
    /** Reads the sequence again after a resync that could not; made at the first such resync. Guarded by this. */
    private ScheduledExecutorService resyncs;
    /** Guarded by this. */
    private boolean closed;
    private static final java.util.concurrent.atomic.AtomicInteger THREADS = new java.util.concurrent.atomic.AtomicInteger();
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
                long point = cache.resyncAtAnUnknownPoint();
                long now;
                try {
                    now = gateway.currentSequence();
                } catch (RuntimeException unread) {
                    // thrown at the dispatcher, the stale entries would stay until they expire
                    LOG.warn("the cache of {} was emptied: its change feed missed batches ({}) and the registry's sequence could not be"
                            + " read ({}); reads go to the registry until the next change arrives or the sequence is read (tried again"
                            + " {} ms after each failed read)", records.typeName(), reason, unread.toString(), RESYNC_RETRY.toMillis());
                    retryResync(s, point);
                    return;
                }
                cache.resync(now);
            }
        });
        cache.start(s.watch.startSequence());
        return s;
    }

    /**
     * Reads the sequence again until it ends the cache's resync at unknown point {@code point} (a
     * type that is not written would otherwise keep its cache off for good), on a thread of its own:
     * each read may wait up to failoverTimeout, which must not hold up the factory's health checks.
     * A chain ends once its point is no longer the cache's unknown one (the feed ended it, or a later
     * resync began its own chain) or the type's last store closed.
     */
    private void retryResync(Shared s, long point) {
        ScheduledExecutorService timer;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (resyncs == null) {
                resyncs = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "reliablestore-cache-resync-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
            }
            timer = resyncs;
        }
        try {
            timer.schedule(() -> {
                // its last store released it (no longer the type's cache), or the point was ended or superseded
                if (caches.get(s.typeName) != s || !s.cache.stillUnknownAt(point)) {
                    return;
                }
                long now;
                try {
                    now = gateway.currentSequence();
                } catch (RuntimeException unread) {
                    retryResync(s, point);
                    return;
                }
                if (s.cache.resyncIfStillUnknown(point, now)) {
                    LOG.info("the cache of {} is on again, from sequence {}", s.typeName, now);
                }
            }, RESYNC_RETRY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the factory is closing: its caches with it
        }
    }

    /** Stops the retries of resyncs (the factory closes; its stores closed already). */
    void close() {
        ScheduledExecutorService timer;
        synchronized (this) {
            closed = true;
            timer = resyncs;
        }
        if (timer != null) {
            timer.shutdownNow();
        }
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

    /**
     * A read outside the type's stores (a transaction's version check) found {@code id}'s version
     * record {@code current} as of {@code at}: the type's cache, if open, keeps it as from a store's read.
     */
    void seen(String typeName, String id, EntityRecords.Current current, long at) {
        Shared s = caches.get(typeName);
        if (s != null) {
            s.cache.seen(id, current.version() == dev.reliablestore.api.Versioned.ABSENT, current.revision(), at);
        }
    }

    /** Types with an open cache (tests). */
    int open() {
        return caches.size();
    }
}
