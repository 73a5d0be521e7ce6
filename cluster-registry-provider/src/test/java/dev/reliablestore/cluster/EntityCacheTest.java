package dev.reliablestore.cluster;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The cache's ordering rules, driven with change batches as the feed delivers them. */
class EntityCacheTest {

    static final RegistryPath TYPE = RegistryPath.of("R", "Entities", "T");
    static final RegistryPath VERSIONS = TYPE.child(StorageLayout.VERSIONS);

    static EntityCache cache() {
        EntityCache c = new EntityCache(100, Duration.ofHours(1), TYPE, VERSIONS);
        c.start(10);
        return c;
    }

    static ChangeBatch deleted(long seq, String id) {
        return new ChangeBatch(seq, List.of(new Change.ValueDeleted(TYPE, id), new Change.ValueDeleted(VERSIONS, id)));
    }

    static ChangeBatch set(long seq, String id) {
        return new ChangeBatch(seq, List.of(new Change.ValueSet(TYPE, id, new VersionedValue(RegistryValue.binary(new byte[1]), seq)),
                new Change.ValueSet(VERSIONS, id, new VersionedValue(RegistryValue.qword(1), seq))));
    }

    /** Nothing a read may be answered with: no entry, or a fence. */
    static void assertNoHit(EntityCache c, String id) {
        EntityCache.Entry e = c.get(id);
        assertThat(e == null || !e.isHit()).as("a hit for " + id + ": " + e).isTrue();
    }

    static EntityCache.Entry entry(long revision) {
        return new EntityCache.Entry(new byte[0], 1, revision);
    }

    @Test
    void aReadOlderThanTheFeedIsNeverCached() {
        EntityCache c = cache();
        c.onBatch(set(12, "a"));            // a change to "a" at 12 was delivered
        c.fill("a", entry(11), 11);         // a read answered at 11 comes back late: stale, vetoed
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(12), 12);
        assertThat(c.get("a")).isNotNull();
    }

    @Test
    void aChangeDeliveredAfterTheFillRemovesTheEntryButTheWritersEchoDoesNot() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.onBatch(set(11, "a"));            // the echo of the write that produced the entry
        assertThat(c.get("a")).isNotNull();
        c.onBatch(set(13, "a"));
        assertThat(c.get("a")).isNull();
        c.fill("b", entry(13), 13);
        c.onBatch(set(14, "other"));
        assertThat(c.get("b")).isNotNull();
    }

    @Test
    void resyncAndKeyDeletionClearEverything() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.resync(20);
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(15), 15);         // answered before the resync point: vetoed
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(20), 20);
        assertThat(c.get("a")).isNotNull();
        c.onBatch(new ChangeBatch(21, List.of(new Change.KeyDeleted(TYPE))));
        assertThat(c.get("a")).isNull();
    }

    /** A resync whose point could not be read: everything goes, and only reads as new as the next delivered batch fill. */
    @Test
    void aResyncAtAnUnknownPointClearsEverythingAndFillsWaitForTheNextBatch() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.resyncAtAnUnknownPoint();
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(30), 30);         // how far the feed missed is unknown: any read may be stale
        assertNoHit(c, "a");                // (what it saw still fences out older states)
        c.onBatch(set(25, "other"));        // the feed is live again from here
        c.fill("b", entry(24), 24);
        assertThat(c.get("b")).isNull();
        c.fill("b", entry(25), 25);
        assertThat(c.get("b")).isNotNull();
        c.resyncAtAnUnknownPoint();
        c.cleared(26);                      // a store's clear, its sequence read before the batches the feed missed
        c.fill("a", entry(30), 30);
        assertNoHit(c, "a");                // a clear does not end the resync
        c.resync(40);                       // the dispatcher, with the point it read
        c.fill("a", entry(40), 40);
        assertThat(c.get("a").isHit()).isTrue();
    }

    /**
     * A whole-type read or a clear answered during a resync at an unknown point still refuses the
     * fills answered before it after the feed ends the resync at an older batch: the batch's
     * sequence only says which reads are new enough for the feed, not for what a store observed.
     */
    @Test
    void aReadOfTheWholeTypeDuringAnUnknownPointOutlivesTheBatchThatEndsIt() {
        EntityCache c = cache();
        c.resyncAtAnUnknownPoint();
        c.seenAll(id -> EntityCache.Entry.tombstone(30), 30);   // a getAll at 30 found no "a"
        c.onBatch(set(25, "other"));                            // the feed, behind the read, is live again
        c.fill("a", entry(20), 27);                             // a read of "a" answered before the getAll
        assertThat(c.get("a")).as("older than what the getAll showed").isNull();
        c.fill("a", entry(31), 31);
        assertThat(c.get("a")).isNotNull();

        c.resyncAtAnUnknownPoint();
        c.cleared(50);                                          // a clear committed at 50
        c.onBatch(set(45, "other"));
        c.fill("b", entry(40), 47);
        assertThat(c.get("b")).as("older than the clear").isNull();
        c.fill("b", entry(50), 50);
        assertThat(c.get("b")).isNotNull();
    }

    /**
     * A store's own delete, save or conflict read during a resync at an unknown point is not cached
     * (no fill is), but still refuses an older state: a read answered before it, filled after the
     * feed resumed at an older batch, would otherwise serve the deleted or replaced entity.
     */
    @Test
    void whatAStoreWroteDuringAnUnknownPointStillRefusesOlderReads() {
        EntityCache c = cache();
        c.resyncAtAnUnknownPoint();
        c.deleted("a", 30);                          // the store's own delete, confirmed to its caller
        c.fill("b", entry(31), 31);                  // its own save
        c.seen("d", false, 32, 32);                  // a conflict read
        assertNoHit(c, "a");
        assertNoHit(c, "b");
        c.onBatch(set(25, "other"));                 // the feed resumes, behind them
        c.fill("a", entry(20), 27);                  // reads answered before them
        c.fill("b", entry(20), 27);
        c.fill("d", entry(20), 27);
        assertNoHit(c, "a");                         // the deleted entity
        assertNoHit(c, "b");                         // the replaced value
        assertNoHit(c, "d");                         // older than the conflict read
        c.fill("b", entry(31), 31);
        assertThat(c.get("b").isHit()).as("the save itself, read again").isTrue();
    }

    /**
     * The sequence read later (off the dispatcher) ends the resync at an unknown point it was read
     * for, and only that one: not one the feed already ended, nor one after the feed missed batches again.
     */
    @Test
    void aSequenceReadLaterEndsOnlyTheResyncItWasReadFor() {
        EntityCache c = cache();
        long first = c.resyncAtAnUnknownPoint();
        assertThat(c.resyncIfStillUnknown(first, 30)).isTrue();
        c.fill("a", entry(30), 30);
        assertThat(c.get("a")).isNotNull();

        long second = c.resyncAtAnUnknownPoint();
        long third = c.resyncAtAnUnknownPoint();    // missed again before the retry's sequence was applied
        assertThat(c.resyncIfStillUnknown(second, 40)).isFalse();
        c.fill("a", entry(40), 40);
        assertNoHit(c, "a");                        // fills stay refused

        c.onBatch(set(45, "other"));                // the feed ended it by itself
        assertThat(c.resyncIfStillUnknown(third, 50)).isFalse();
        c.fill("a", entry(46), 46);
        assertThat(c.get("a")).as("the point the feed set holds, not the later read").isNotNull();
    }

    @Test
    void aDeleteLeavesATombstoneThatAReadAnsweredBeforeItCannotReplace() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.deleted("a", 14);                 // the store's delete committed at 14; the feed has not delivered it
        assertThat(c.get("a").isTombstone()).isTrue();
        c.fill("a", entry(11), 13);         // a read answered at 13 (before the delete) fills late: refused
        assertThat(c.get("a").isTombstone()).isTrue();
        c.onBatch(deleted(14, "a"));        // the delete's own echo keeps the tombstone
        assertThat(c.get("a").isTombstone()).isTrue();
        c.fill("a", entry(16), 16);         // re-created after the delete
        assertThat(c.get("a").isTombstone()).isFalse();
        assertThat(c.get("a").revision()).isEqualTo(16);
        c.deleted("b", 17);
        c.onBatch(set(18, "b"));            // someone else re-created b: the tombstone goes
        assertThat(c.get("b")).isNull();
    }

    @Test
    void aReadOlderThanASaveNeverReplacesIt() {
        EntityCache c = cache();
        c.fill("a", entry(15), 15);         // the store's save committed at 15
        c.fill("a", entry(12), 14);         // a read answered at 14, before the save, fills late: refused
        assertThat(c.get("a").revision()).isEqualTo(15);
        EntityCache.Entry same = c.get("a");
        c.fill("a", entry(15), 20);         // the same value read again keeps the entry (and its shared instance)
        assertThat(c.get("a")).isSameAs(same);
    }

    @Test
    void aVersionReadLeavesAFenceOverAnOlderValueOrATombstone() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.seen("a", false, 11, 14);         // the version record of the cached value: nothing changes
        assertThat(c.get("a").isHit()).isTrue();
        c.seen("a", false, 15, 16);         // a newer version record (another writer), value not read
        assertThat(c.get("a").isHit()).as("a fence: reads go to the registry").isFalse();
        c.fill("a", entry(11), 13);         // a read answered before it: refused
        assertThat(c.get("a").isHit()).isFalse();
        c.fill("a", entry(15), 16);         // the value of that version record
        assertThat(c.get("a").isHit()).isTrue();
        assertThat(c.get("a").revision()).isEqualTo(15);
        c.seen("a", true, 0, 20);           // read as absent at 20: a tombstone
        assertThat(c.get("a").isTombstone()).isTrue();
        c.fill("a", entry(15), 17);
        assertThat(c.get("a").isTombstone()).isTrue();
    }

    @Test
    void aReadOfTheWholeTypeLeavesATombstoneOrAFenceOverEveryEntryAndRefusesReadsOlderThanIt() {
        EntityCache c = cache();
        c.fill("gone", entry(11), 11);
        c.fill("moved", entry(11), 11);
        c.fill("same", entry(12), 12);
        // a getAll (or count) answered at 20 found "moved" at revision 15 and "same" at 12, and no "gone"
        Map<String, EntityCache.Entry> found = Map.of("moved", EntityCache.Entry.fence(15), "same", EntityCache.Entry.fence(12));
        c.seenAll(id -> found.getOrDefault(id, EntityCache.Entry.tombstone(20)), 20);
        assertThat(c.get("gone").isTombstone()).isTrue();
        assertThat(c.get("gone").revision()).isEqualTo(20);
        assertThat(c.get("moved").isHit()).as("a fence").isFalse();
        assertThat(c.get("same").json()).as("the value it found is kept").isNotNull();
        assertThat(c.size()).as("no entry made for an id not cached").isEqualTo(3);
        // a read of an id not cached during the walk, answered before it and filled after: refused
        c.fill("late", entry(11), 19);
        assertThat(c.get("late")).isNull();
        c.fill("late", entry(11), 20);
        assertThat(c.get("late")).isNotNull();
    }

    @Test
    void anExpiredTombstoneStillRefusesReadsOlderThanIt() {
        AtomicLong now = new AtomicLong(1_000);
        EntityCache c = new EntityCache(100, Duration.ofNanos(100), TYPE, VERSIONS, now::get);
        c.start(10);
        c.deleted("a", 20);
        c.fill("b", entry(12), 12);
        now.addAndGet(1_000);               // both expire
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(12), 19);         // answered before the delete: refused although the tombstone expired
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(21), 21);
        assertThat(c.get("a").revision()).isEqualTo(21);
    }

    @Test
    void aRefusedDeleteStillRemovesTheValueItDeleted() {
        AtomicLong now = new AtomicLong(1_000);
        EntityCache c = new EntityCache(100, Duration.ofNanos(100), TYPE, VERSIONS, now::get);
        c.start(10);
        c.fill("b", entry(30), 30);
        now.addAndGet(60);
        c.fill("a", entry(11), 11);
        now.addAndGet(60);                  // b expires (written at 30), a does not
        c.cleanUp();
        assertThat(c.get("b")).isNull();
        c.deleted("a", 20);                 // older than the evicted b: the tombstone is refused...
        assertThat(c.get("a")).as("...and the value it deleted goes with it").isNull();
        c.fill("a", entry(11), 19);         // a read answered before the delete: refused too
        assertThat(c.get("a")).isNull();
    }

    @Test
    void anEvictedTombstoneStillRefusesReadsOlderThanIt() {
        EntityCache c = new EntityCache(1, Duration.ofHours(1), TYPE, VERSIONS);
        c.start(10);
        c.deleted("a", 20);
        for (int i = 0; i < 50 && c.get("a") != null; i++) { // push it out (the size policy may keep it a while)
            c.fill("b" + i, entry(21 + i), 21 + i);
            c.cleanUp();
        }
        assertThat(c.get("a")).as("evicted").isNull();
        c.fill("a", entry(12), 19);         // answered before the delete: refused
        assertThat(c.get("a")).isNull();
        c.fill("a", entry(80), 80);
        c.cleanUp();
        assertThat(c.size()).isLessThanOrEqualTo(1);
    }

    @Test
    void aResyncKeepsWhatWasWrittenAfterItsPoint() {
        EntityCache c = cache();
        c.fill("a", entry(11), 11);
        c.deleted("b", 22);
        c.resync(20);
        assertThat(c.get("a")).isNull();
        assertThat(c.get("b").isTombstone()).isTrue();
        c.fill("b", entry(15), 21);         // older than the tombstone: refused
        assertThat(c.get("b").isTombstone()).isTrue();
    }

    /**
     * A read of the whole type (getAll, count) answered at 20 found x deleted while a read of x
     * answered at 11 was being filled: the fill, paused at each of the cache clock's reads it makes
     * (Caffeine reads it inside its map's compute, after the fill's check and before a new entry is
     * visible to a walk of the keys), never leaves the older value to be read after the whole read.
     */
    @Test
    void aFillInFlightDuringAReadOfTheWholeTypeNeverOutlivesIt() throws Exception {
        SoftAssertions softly = new SoftAssertions();
        for (int pauseAt = 0; pauseAt <= MAX_CLOCK_READS; pauseAt++) {
            EntityCache.Entry x = race(pauseAt, c -> c.fill("x", entry(11), 11),
                    c -> c.seenAll(id -> EntityCache.Entry.tombstone(20), 20));
            softly.assertThat(x == null || x.isTombstone()).as("x after the whole read, the fill paused at clock read %d: %s", pauseAt,
                    describe(x)).isTrue();
        }
        softly.assertAll();
    }

    /** The mirror case: a read that found x absent at 11, filled while a whole read at 20 found x created at 15. */
    @Test
    void aTombstoneFillInFlightDuringAReadOfTheWholeTypeNeverOutlivesIt() throws Exception {
        SoftAssertions softly = new SoftAssertions();
        for (int pauseAt = 0; pauseAt <= MAX_CLOCK_READS; pauseAt++) {
            EntityCache.Entry x = race(pauseAt, c -> c.seen("x", true, 0, 11),
                    c -> c.seenAll(id -> EntityCache.Entry.fence(15), 20));
            softly.assertThat(x == null || !x.isHit()).as("x after the whole read, the fill paused at clock read %d: %s", pauseAt,
                    describe(x)).isTrue();
        }
        softly.assertAll();
    }

    /** A change delivered at 15 (of x, of the whole type; a clear, a resync) while a read of x answered at 11 was being filled. */
    @Test
    void aFillInFlightWhenAChangeIsDeliveredNeverOutlivesIt() throws Exception {
        Map<String, Consumer<EntityCache>> changes = Map.of(
                "x set", c -> c.onBatch(set(15, "x")),
                "x deleted", c -> c.onBatch(deleted(15, "x")),
                "the type deleted", c -> c.onBatch(new ChangeBatch(15, List.of(new Change.KeyDeleted(TYPE)))),
                "a clear", c -> c.cleared(15),
                "a resync", c -> c.resync(15));
        SoftAssertions softly = new SoftAssertions();
        for (Map.Entry<String, Consumer<EntityCache>> change : changes.entrySet()) {
            for (int pauseAt = 0; pauseAt <= MAX_CLOCK_READS; pauseAt++) {
                EntityCache.Entry x = race(pauseAt, c -> c.fill("x", entry(11), 11), change.getValue());
                softly.assertThat(x).as("x after %s, the fill paused at clock read %d: %s", change.getKey(), pauseAt, describe(x)).isNull();
            }
        }
        softly.assertAll();
    }

    /**
     * More than a fill makes: Caffeine 3.1 reads the clock before its compute and, for an entry it
     * creates, inside its map's compute after the remapping function (a pause at a read that never
     * comes lets the fill run through).
     */
    private static final int MAX_CLOCK_READS = 3;

    /**
     * Runs {@code fill} on a thread of its own, paused at its {@code pauseAt}th read of the cache's
     * clock (0: never); meanwhile {@code other} on another thread, until it ends or waits; then lets
     * the fill go on, and returns the entry of x once both ended.
     */
    private static EntityCache.Entry race(int pauseAt, Consumer<EntityCache> fill, Consumer<EntityCache> other) throws Exception {
        PausingTicker ticker = new PausingTicker(pauseAt);
        EntityCache c = new EntityCache(100, Duration.ofHours(1), TYPE, VERSIONS, ticker);
        c.start(10);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread filler = thread("filler", () -> fill.accept(c), failed);
        ticker.pause(filler);
        filler.start();
        soon().until(() -> ticker.paused() || filler.getState() == Thread.State.TERMINATED);
        Thread otherThread = thread("other", () -> other.accept(c), failed);
        otherThread.start();
        soon().until(() -> EnumSet.of(Thread.State.BLOCKED, Thread.State.WAITING,
                Thread.State.TIMED_WAITING, Thread.State.TERMINATED).contains(otherThread.getState()));
        ticker.release();
        soon().until(() -> !filler.isAlive() && !otherThread.isAlive());
        assertThat(failed.get()).isNull();
        return c.get("x");
    }

    private static org.awaitility.core.ConditionFactory soon() {
        return await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(30));
    }

    private static Thread thread(String name, Runnable body, AtomicReference<Throwable> failed) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failed.compareAndSet(null, e);
            }
        }, name);
        t.setDaemon(true);
        return t;
    }

    private static String describe(EntityCache.Entry e) {
        return e == null ? "none" : (e.isTombstone() ? "tombstone" : e.isHit() ? "value" : "fence") + " at " + e.revision();
    }

    /** A clock that stops one thread at its Nth read until released; other threads read on. */
    private static final class PausingTicker implements Ticker {

        private final int pauseAt;
        private final AtomicInteger reads = new AtomicInteger();
        private final CountDownLatch paused = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile Thread pausing;

        PausingTicker(int pauseAt) {
            this.pauseAt = pauseAt;
        }

        void pause(Thread t) {
            pausing = t;
        }

        boolean paused() {
            return paused.getCount() == 0;
        }

        void release() {
            released.countDown();
        }

        @Override
        public long read() {
            if (Thread.currentThread() == pausing && reads.incrementAndGet() == pauseAt) {
                paused.countDown();
                try {
                    released.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            return 1_000;
        }
    }
}
