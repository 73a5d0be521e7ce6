package dev.reliablestore.cluster;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryPath;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local cache of one entity type: decrypted, decompressed JSON with its version and registry
 * revision. Entities are materialised from it on every hit (a few microseconds) so that a caller
 * mutating what it got can never change what another caller sees, unless the store's
 * {@link CachedReads} lets its readers share one instance, which the entry then keeps too.
 *
 * <p>Invalidation comes from the registry change feed only. To never keep a stale value, a read
 * fills the cache only if the feed has delivered nothing newer than the registry sequence the read
 * was answered at: a change committed after that sequence is then delivered after the fill and
 * removes it; a change delivered before the fill vetoes it. A delivered change removes an entry only
 * when the entry is older than the change, so a writer's own value survives its own echo.
 */
final class EntityCache {

    /** A cached value, and the decoded instance its readers share when their store allows it (see Materialiser). */
    static final class Entry implements EntityValues.SharedSlot {

        private static final VarHandle INSTANCE;

        static {
            try {
                INSTANCE = MethodHandles.lookup().findVarHandle(Entry.class, "instance", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final byte[] json;
        private final long version;
        private final long revision;
        @SuppressWarnings("unused") // through INSTANCE
        private volatile Object instance;

        Entry(byte[] json, long version, long revision) {
            this.json = json;
            this.version = version;
            this.revision = revision;
        }

        byte[] json() {
            return json;
        }

        long version() {
            return version;
        }

        long revision() {
            return revision;
        }

        @Override
        public Object instance() {
            return instance;
        }

        @Override
        public Object offer(Object candidate) {
            Object kept = INSTANCE.compareAndExchange(this, null, candidate);
            return kept == null ? candidate : kept;
        }
    }

    private final Cache<String, Entry> cache;
    private final RegistryPath typeKey;
    private final RegistryPath versionsKey;
    /** The sequence of the newest batch the feed delivered (or the resync point). */
    private final AtomicLong feedSequence = new AtomicLong();

    EntityCache(int size, Duration ttl, RegistryPath typeKey, RegistryPath versionsKey) {
        this.cache = Caffeine.newBuilder().maximumSize(size).expireAfterWrite(ttl).build();
        this.typeKey = typeKey;
        this.versionsKey = versionsKey;
    }

    /** Called once the watch is registered: reads answered before this are never cached. */
    void start(long watchStartSequence) {
        feedSequence.accumulateAndGet(watchStartSequence, Math::max);
    }

    Entry get(String id) {
        return cache.getIfPresent(id);
    }

    /** Caches a value read (or written) at registry sequence {@code asOf}, unless the feed has moved past it. */
    void fill(String id, Entry entry, long asOf) {
        cache.asMap().compute(id, (k, existing) -> {
            if (existing != null && existing.revision() >= entry.revision()) {
                return existing;
            }
            return feedSequence.get() <= asOf ? entry : existing;
        });
    }

    void invalidate(String id) {
        cache.invalidate(id);
    }

    void onBatch(ChangeBatch batch) {
        long seq = batch.sequence();
        feedSequence.accumulateAndGet(seq, Math::max);
        for (Change c : batch.changes()) {
            if (c instanceof Change.ValueSet s && (s.key().equals(typeKey) || s.key().equals(versionsKey))) {
                dropOlderThan(s.name(), seq);
            } else if (c instanceof Change.ValueDeleted d && (d.key().equals(typeKey) || d.key().equals(versionsKey))) {
                dropOlderThan(d.name(), seq);
            } else if (c instanceof Change.KeyDeleted k && k.key().contains(versionsKey)) {
                cache.invalidateAll();
            }
        }
    }

    private void dropOlderThan(String id, long seq) {
        cache.asMap().computeIfPresent(id, (k, e) -> e.revision() >= seq ? e : null);
    }

    /** The feed missed batches: forget everything read before {@code currentSequence}. */
    void resync(long currentSequence) {
        feedSequence.accumulateAndGet(currentSequence, Math::max);
        cache.invalidateAll();
    }

    long size() {
        return cache.estimatedSize();
    }
}
