package dev.reliablestore.cluster;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryPath;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Function;

/**
 * The local cache of one entity type of a factory, shared by every store of the type: decrypted,
 * decompressed JSON with its version and registry revision, or a tombstone (the entity is known to
 * be absent as of a sequence), or a fence (a version record seen without its value: not a hit). Entities are materialised from it on every hit (a few microseconds)
 * so that a caller mutating what it got can never change what another caller sees, unless the
 * store's {@link CachedReads} lets its readers share one instance, which the entry then keeps too.
 *
 * <p>An entry's revision is the registry sequence its state is known from: the commit that wrote the
 * value (for a value read from the registry, the revision of its records), for a fence the revision
 * of the version record seen, or, for a tombstone, the delete's commit (or a later read that found the
 * entity absent). A fill — a value a store read or wrote, a tombstone a store's delete or read left, a
 * fence a store's version read left — replaces the entry of its id only with a newer state:
 * <ul>
 *   <li>a fill replaces an entry only when its revision is newer, or equal and the entry holds no
 *       value (the value of a fence), so a read answered before a save or a delete, and filled after
 *       it, never puts the older state back;</li>
 *   <li>a fill is refused if the feed has delivered anything newer than the registry sequence the
 *       read (or commit) was answered at: a change committed after that sequence is then delivered
 *       after the fill and removes it; a change delivered before the fill vetoes it (a read of the whole
 *       type, which leaves a tombstone or fence over every entry, counts as delivered at its sequence);</li>
 *   <li>a fill is refused if it is older than any entry evicted (size or expiry), so that an evicted
 *       tombstone or save cannot be replaced by a read older than it.</li>
 * </ul>
 * A delivered change removes an entry only when the entry is older than the change, so a writer's own
 * value (or tombstone) survives its own echo. A refused fill newer than the entry removes the entry.
 * Refusing a fill is always safe: the next read misses.
 *
 * <p>A fill decides inside Caffeine's compute, but the entry of an id not cached is visible to a walk
 * of the keys or a {@code computeIfPresent} only once that compute returns; so whatever raises the
 * feed sequence (a delivered batch, a whole-type read, a clear, a resync) then waits for the fills
 * under way to end before it looks at the entries: a fill that decided before the raise has its
 * entry where it looks, one that decides after it sees the raised sequence. (The eviction floor needs
 * no such wait: only an entry of the id can be evicted, and Caffeine's map orders that eviction and
 * the fill's compute.)
 */
final class EntityCache {

    /** The version of a fence. */
    private static final long UNKNOWN = -1;

    /** A cached value, tombstone or fence, and the decoded instance its readers share when their store allows it (see Materialiser). */
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

        /** A value: its plain bytes, version, and the registry revision of its records. */
        Entry(byte[] json, long version, long revision) {
            this.json = json;
            this.version = version;
            this.revision = revision;
        }

        /** The entity is absent as of registry sequence {@code asOf}: deleted there, or read as absent there. */
        static Entry tombstone(long asOf) {
            return new Entry(null, Versioned.ABSENT, asOf);
        }

        /**
         * A read found the entity's version record at {@code revision} but not its value (a version
         * read: a conflict, a delete): no hit, but no value older than that revision may be filled.
         */
        static Entry fence(long revision) {
            return new Entry(null, UNKNOWN, revision);
        }

        /** Whether the entry answers a read: a value, or a tombstone (absent). */
        boolean isHit() {
            return json != null || version == Versioned.ABSENT;
        }

        boolean isTombstone() {
            return json == null && version == Versioned.ABSENT;
        }

        /** The plain bytes; null for a tombstone. */
        byte[] json() {
            return json;
        }

        long version() {
            return version;
        }

        /** The sequence the entry's state is known from (see the class comment). */
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
    /**
     * The newest sequence a whole-type read or a clear was answered at: fills answered before it are
     * refused. Kept apart from {@link #feedSequence} because a resync at an unknown point replaces
     * that with the next delivered batch's sequence, which can be older than such a read.
     */
    private final AtomicLong observedUpTo = new AtomicLong();
    /** The newest revision of an entry evicted (size or expiry); raised within the removal, before a fill of its id can run. */
    private final AtomicLong evictedUpTo = new AtomicLong();
    /** Held shared by each fill (its check and its entry's publication), taken alone by {@link #fillsDecidedBefore}. */
    private final StampedLock fills = new StampedLock();

    EntityCache(int size, Duration ttl, RegistryPath typeKey, RegistryPath versionsKey) {
        this(size, ttl, typeKey, versionsKey, Ticker.systemTicker());
    }

    /** {@code ticker}: the clock of the expiry (tests). */
    EntityCache(int size, Duration ttl, RegistryPath typeKey, RegistryPath versionsKey, Ticker ticker) {
        // Caffeine calls an eviction listener inside the atomic removal of the entry, and a compute of an
        // expired entry notifies its expiry before the remapping runs: a fill always sees the raised floor.
        this.cache = Caffeine.newBuilder().maximumSize(size).expireAfterWrite(ttl).ticker(ticker)
                .evictionListener((String id, Entry e, RemovalCause cause) -> {
                    if (e != null) {
                        // an unsettled fence knows no revision: what the feed had delivered by now is the floor it leaves
                        long floor = e.revision() == UNSETTLED ? feedSequence.get() : e.revision();
                        if (floor != UNKNOWN_POINT) {
                            evictedUpTo.accumulateAndGet(floor, Math::max);
                        }
                    }
                })
                .build();
        this.typeKey = typeKey;
        this.versionsKey = versionsKey;
    }

    /** Called once the watch is registered: reads answered before this are never cached. */
    void start(long watchStartSequence) {
        feedSequence.accumulateAndGet(watchStartSequence, Math::max);
    }

    /** The entry of {@code id} (a value or a tombstone), or null. */
    Entry get(String id) {
        return cache.getIfPresent(id);
    }

    /**
     * Caches a value (or a tombstone) read, written or deleted at registry sequence {@code asOf},
     * unless the cache knows a state at least as new, the feed has moved past {@code asOf}, or an
     * entry newer than {@code asOf} was evicted.
     */
    void fill(String id, Entry entry, long asOf) {
        long stamp = fills.readLock();
        try {
            cache.asMap().compute(id, (k, existing) -> filled(existing, entry, asOf));
        } finally {
            fills.unlockRead(stamp);
        }
    }

    /**
     * Called after raising the feed sequence (or the floor of whole-type reads), before looking at the
     * entries: returns once every fill that may have checked against it before the raise has published
     * its entry.
     */
    private void fillsDecidedBefore() {
        fills.unlockWrite(fills.writeLock());
    }

    /** What the entry of an id becomes when {@code entry}, known as of {@code asOf}, is filled over {@code existing} (may be null). */
    private Entry filled(Entry existing, Entry entry, long asOf) {
        if (existing != null && (existing.revision() > entry.revision()
                || existing.revision() == entry.revision() && existing.json() != null)) {
            return existing;
        }
        // refused: the existing entry is older than this fill's state, so it goes too (a fill accepted
        // later is answered after the feed sequence or eviction floor that refused this one, so newer)
        boolean floorsPassed = observedUpTo.get() <= asOf && evictedUpTo.get() <= asOf;
        long feed = feedSequence.get();
        if (feed <= asOf && floorsPassed) {
            return entry;
        }
        // a resync at an unknown point refuses every fill, but the state it brings (a store's own save or delete, what
        // a read saw) still fences out older ones: a read answered before it, filled once the feed resumes at an older
        // batch, must not bring one back. A fence is no hit.
        return feed == UNKNOWN_POINT && floorsPassed ? Entry.fence(entry.revision()) : null;
    }

    /**
     * A write of {@code id} failed with its outcome unknown: it may have landed at a sequence nobody
     * knows, so nothing cached of the id may answer a read (the caller was told to read to find out)
     * and no read may fill one, until the entry expires or is evicted. A fence newer than any revision:
     * no hit, and every fill is older; the feed's changes keep it too, since the write's own may be later.
     */
    void unsettled(String id) {
        long stamp = fills.readLock();
        try {
            cache.asMap().put(id, Entry.fence(UNSETTLED));
        } finally {
            fills.unlockRead(stamp);
        }
    }

    /** {@link #unsettled} for every id cached: a clear whose outcome is unknown. */
    void unsettledAll() {
        for (String id : cache.asMap().keySet()) {
            unsettled(id);
        }
    }

    /** The revision of an {@link #unsettled} fence. */
    private static final long UNSETTLED = Long.MAX_VALUE - 1;

    /** The entity was deleted by the commit at {@code sequence} (or read as absent there). */
    void deleted(String id, long sequence) {
        fill(id, Entry.tombstone(sequence), sequence);
    }

    /**
     * A read answered at {@code asOf} found the version record {@code version} at {@code revision}
     * (or none: {@code absent}): a tombstone, or a fence over an older entry, so that what a store
     * observed (a conflict, a delete that found nothing) is never followed by an older hit.
     */
    void seen(String id, boolean absent, long revision, long asOf) {
        fill(id, absent ? Entry.tombstone(asOf) : Entry.fence(revision), asOf);
    }

    /**
     * A read of the whole type answered at {@code asOf} (getAll, count, a clear's listing) found, for
     * each cached id, what {@code seen} returns: a tombstone (not found), a fence (its version record),
     * or null (nothing to go by). Each is filled over the id's entry, never creating one, so that what
     * the read showed is never followed by an older hit. Fills answered before {@code asOf} are refused
     * from now on, as if the feed had delivered {@code asOf}: a read of an id this one found absent,
     * answered before it and filled after the walk passed the id, would otherwise bring the entity back.
     */
    void seenAll(Function<String, Entry> seen, long asOf) {
        observedUpTo.accumulateAndGet(asOf, Math::max);
        fillsDecidedBefore();
        for (String id : cache.asMap().keySet()) {
            Entry entry = seen.apply(id);
            if (entry != null) {
                cache.asMap().computeIfPresent(id, (k, existing) -> filled(existing, entry, asOf));
            }
        }
    }

    void onBatch(ChangeBatch batch) {
        long seq = batch.sequence();
        raiseFeedSequence(seq);
        fillsDecidedBefore();
        for (Change c : batch.changes()) {
            if (c instanceof Change.ValueSet s && (s.key().equals(typeKey) || s.key().equals(versionsKey))) {
                dropOlderThan(s.name(), seq);
            } else if (c instanceof Change.ValueDeleted d && (d.key().equals(typeKey) || d.key().equals(versionsKey))) {
                dropOlderThan(d.name(), seq);
            } else if (c instanceof Change.KeyDeleted k && k.key().contains(versionsKey)) {
                dropAllOlderThan(seq);
            }
        }
    }

    private void dropOlderThan(String id, long seq) {
        cache.asMap().computeIfPresent(id, (k, e) -> e.revision() >= seq ? e : null);
    }

    /**
     * Drops every entry older than {@code seq}, which the feed sequence has reached: a later fill is
     * then answered at or after {@code seq}, so it never brings back a state older than one dropped.
     */
    private void dropAllOlderThan(long seq) {
        for (String id : cache.asMap().keySet()) {
            dropOlderThan(id, seq);
        }
    }

    /**
     * The feed missed batches: forget everything known from before {@code currentSequence}. Called
     * by the feed's dispatcher only, which alone may end a {@link #resyncAtAnUnknownPoint}.
     */
    void resync(long currentSequence) {
        raiseFeedSequence(currentSequence);
        fillsDecidedBefore();
        dropAllOlderThan(currentSequence);
    }

    /**
     * A store cleared its type: forget everything known from before {@code sequence}, the newest the
     * clear read or committed at (possibly before batches the feed then missed: it never ends a
     * resync at an unknown point).
     */
    void cleared(long sequence) {
        observedUpTo.accumulateAndGet(sequence, Math::max);
        fillsDecidedBefore();
        dropAllOlderThan(sequence);
    }

    /**
     * The feed missed batches and the registry's current sequence could not be read: forget
     * everything, and accept no fill until the feed delivers a batch, whose sequence then tells
     * which reads are new enough (any answered before the missed ones could be stale).
     */
    synchronized long resyncAtAnUnknownPoint() {
        unknownPoints++;
        feedSequence.set(UNKNOWN_POINT);
        fillsDecidedBefore();
        dropAllOlderThan(UNKNOWN_POINT);
        return unknownPoints;
    }

    /**
     * Ends the resync at an unknown point numbered {@code point} (what {@link #resyncAtAnUnknownPoint}
     * returned) at {@code currentSequence}, read after it began; unless the feed delivered a batch
     * since (which ended it) or missed batches again (a sequence read before that is no point to
     * trust). Called off the dispatcher, when the sequence could be read later; returns whether it ended it.
     */
    synchronized boolean resyncIfStillUnknown(long point, long currentSequence) {
        if (!stillUnknownAt(point)) {
            return false;
        }
        resync(currentSequence);
        return true;
    }

    /** Whether the cache is still at unknown point {@code point}: no batch since, and no later resync. */
    synchronized boolean stillUnknownAt(long point) {
        return point == unknownPoints && feedSequence.get() == UNKNOWN_POINT;
    }

    /** Resyncs at an unknown point so far; guarded by this. */
    private long unknownPoints;

    /** {@link #feedSequence} after a resync whose point is unknown: refuses every fill. */
    private static final long UNKNOWN_POINT = Long.MAX_VALUE;

    private void raiseFeedSequence(long seq) {
        feedSequence.updateAndGet(f -> f == UNKNOWN_POINT ? seq : Math.max(f, seq));
    }

    long size() {
        return cache.estimatedSize();
    }

    /** Runs the cache's pending maintenance (evictions) now (tests). */
    void cleanUp() {
        cache.cleanUp();
    }
}
