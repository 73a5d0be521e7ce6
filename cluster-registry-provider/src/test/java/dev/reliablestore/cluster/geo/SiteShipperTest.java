package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.conformance.FeedRecorder;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** One site's batches shipped to another: in order, once each, durable first, nothing dropped. */
class SiteShipperTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    static final RegistryPath ROOT = RegistryPath.of("Store");
    static final RegistryPath LEDGER = RegistryPath.of("Store", "Sites", "Applied");
    static final RegistryPath DATA = RegistryPath.of("Store", "Entities", "Order");

    @TempDir
    Path dir;
    private ClusterRegistry a;
    private ClusterRegistry b;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void openSites() {
        a = ClusterRegistries.open("embedded:" + dir.resolve("a"));
        b = ClusterRegistries.open("embedded:" + dir.resolve("b"));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        a.close();
        b.close();
    }

    private SiteShipper ship(ClusterRegistry from, String site, ClusterRegistry to) {
        SiteShipper s = copying(from, site, to, Duration.ofMillis(200));
        open.add(s);
        return s;
    }

    /** A shipper of ROOT from {@code site} ("eu" or "us") to the other, copying values as they are. */
    static SiteShipper copying(ClusterRegistry from, String site, ClusterRegistry to, Duration behindAfter) {
        return new SiteShipper(from, ROOT, site, to, site.equals("eu") ? "us" : "eu", LEDGER, batches -> SiteShipper.replay(batches, LEDGER),
                Duration.ZERO, Duration.ofMillis(20), behindAfter);
    }

    static Map<String, Long> data(ClusterRegistry r) {
        Map<String, Long> out = new TreeMap<>();
        if (r.keyExists(DATA)) {
            r.values(DATA).forEach((n, v) -> out.put(n, v.value().asQword()));
        }
        return out;
    }

    /** Batch {@code i}: SYNC for odd i, ASYNC for even. */
    static void write(ClusterRegistry r, int i) {
        WriteBatch w = WriteBatch.builder().setValue(DATA, "o" + (i % 17), RegistryValue.qword(i))
                .setValue(DATA, "last", RegistryValue.qword(i)).build();
        if (i % 2 == 0) {
            r.commitAsync(w);
        } else {
            r.commit(w);
        }
    }

    @Test
    @SuppressWarnings("try") // the watch records while open
    void batchesArriveInOrderOnceEachAndAShipperRestartsFromTheTargetsCheckpoint() {
        FeedRecorder atB = new FeedRecorder();
        try (Watch w = b.watch(LEDGER, atB)) {
            SiteShipper shipper = ship(a, "eu", b);
            for (int i = 0; i < 60; i++) {
                write(a, i);
            }
            long last = a.currentSequence();
            await().atMost(Duration.ofSeconds(20)).until(() -> shipper.checkpoint() == last);
            assertThat(data(b)).isEqualTo(data(a)).containsEntry("last", 59L);
            shipper.close();

            for (int i = 60; i < 90; i++) {
                write(a, i);
            }
            SiteShipper again = ship(a, "eu", b);
            long newest = a.currentSequence();
            await().atMost(Duration.ofSeconds(20)).until(() -> again.checkpoint() == newest);
            assertThat(data(b)).isEqualTo(data(a)).containsEntry("last", 89L);
            assertThat(again.shipped()).as("only what the first shipper had not shipped").isEqualTo(30);
            // batches that waited together go together: each commit at the target moves the checkpoint on
            await().atMost(Duration.ofSeconds(10)).until(() -> !atB.batches.isEmpty()
                    && checkpointOf(atB.batches.get(atB.batches.size() - 1)) == newest);
            assertThat(atB.batches).extracting(ChangeBatch::sequence).doesNotHaveDuplicates().isSorted();
            assertThat(atB.batches).extracting(SiteShipperTest::checkpointOf).doesNotHaveDuplicates().isSorted();
            assertThat(atB.batches).hasSizeBetween(2, 90);
        }
    }

    /** The checkpoint a target's ledger batch set. */
    static long checkpointOf(ChangeBatch ledgerBatch) {
        return ledgerBatch.changes().stream().filter(c -> c instanceof dev.reliablestore.registry.Change.ValueSet)
                .mapToLong(c -> ((dev.reliablestore.registry.Change.ValueSet) c).value().value().asQword()).max().orElseThrow();
    }

    /** What a registry wrapped for a test does on a call; {@code proceed} makes the real call. */
    interface Around {
        Object call(String method, Object[] args, Proceed proceed) throws Throwable;
    }

    interface Proceed {
        Object call() throws Throwable;
    }

    static ClusterRegistry around(ClusterRegistry real, Around around) {
        return (ClusterRegistry) Proxy.newProxyInstance(SiteShipperTest.class.getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                (proxy, method, args) -> around.call(method.getName(), args, () -> {
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }

    /** {@code real}, running {@code action} right after the first call of {@code method} returns (before its caller sees the result). */
    static ClusterRegistry afterFirst(ClusterRegistry real, String method, Runnable action) {
        AtomicBoolean done = new AtomicBoolean();
        return around(real, (m, args, proceed) -> {
            Object result = proceed.call();
            if (m.equals(method) && done.compareAndSet(false, true)) {
                action.run();
            }
            return result;
        });
    }

    /** {@code real} behind a gate: while {@code away}, every call fails as unavailable. */
    private static ClusterRegistry gated(ClusterRegistry real, AtomicBoolean away) {
        return around(real, (method, args, proceed) -> {
            if (away.get() && !method.equals("uri")) {
                throw new RegistryUnavailableException("the site is away (test)", null);
            }
            return proceed.call();
        });
    }

    @Test
    void closeInterruptsAShipmentStuckAtTheTargetAndLeavesNoThreadRunning() {
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(1);
        ClusterRegistry hanging = around(b, (method, args, proceed) -> {
            if (method.equals("commit")) {
                stuck.countDown();
                new java.util.concurrent.CountDownLatch(1).await(); // a target that never answers, until interrupted
            }
            return proceed.call();
        });
        SiteShipper shipper = copying(a, "eu", hanging, Duration.ofSeconds(30));
        write(a, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> stuck.getCount() == 0);
        shipper.close(Duration.ofMillis(100)); // waits the grace, then interrupts the call
        assertThat(shipper.running()).isFalse();
        assertThat(shipper.failure()).as("a stop asked for, not a failure").isNull();
    }

    @Test
    void aTargetThatIsAwayDelaysButLosesNothing() {
        AtomicBoolean away = new AtomicBoolean(true);
        SiteShipper shipper = ship(a, "eu", gated(b, away));
        write(a, 0);
        assertThat(shipper.failure()).isNull();
        away.set(false);
        await().atMost(Duration.ofSeconds(20)).until(() -> data(b).equals(data(a)));

        // away while the feed runs: more batches than the shipper and its watch hold (256 + the embedded
        // watch's 10,000), so the watch overflows into onResync and the shipper reads on from the checkpoint
        away.set(true);
        for (int i = 1; i < 10_600; i++) {
            if (i % 1000 == 0) {
                write(a, i - 1); // SYNC now and then
            } else {
                a.commitAsync(WriteBatch.builder().setValue(DATA, "o" + (i % 17), RegistryValue.qword(i))
                        .setValue(DATA, "last", RegistryValue.qword(i)).build());
            }
        }
        write(a, 10_599);
        assertThat(data(b)).containsEntry("last", 0L);
        await().alias("the behind fault after 200 ms of refusals").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us")));
        assertThat(a.healthFaults()).filteredOn(f -> f.id().equals("site-behind-us")).singleElement()
                .satisfies(f -> assertThat(f.description()).contains("not accepted for more than PT0.2S", "the site is away (test)", "nothing is lost"));
        away.set(false);
        // the sequence of the last write (raising the fault is a write of the local registry too)
        long last = a.getValue(DATA, "last").orElseThrow().revision();
        await().atMost(Duration.ofSeconds(30)).until(() -> shipper.checkpoint() == last);
        assertThat(data(b)).isEqualTo(data(a)).containsEntry("last", 10_599L);
        assertThat(shipper.shipped()).isEqualTo(10_601);
        assertThat(shipper.feedOpenings()).as("read on from the checkpoint after falling behind").isGreaterThan(1);
        assertThat(shipper.failure()).isNull();
        await().alias("the behind fault cleared once batches go through").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().noneMatch(f -> f.id().equals("site-behind-us")));
    }

    /** A shipper replaced while behind (the application restarted, the lease moved) leaves its fault to the next one to clear. */
    @Test
    void theBehindFaultOfAReplacedShipperIsClearedByTheNextOneOnceItCatchesUp() {
        AtomicBoolean away = new AtomicBoolean(true);
        SiteShipper first = ship(a, "eu", gated(b, away));
        // Awaitility's own pace of 100 ms: the condition writes at every look
        Awaitility.await().alias("the behind fault after 200 ms of refusals").atMost(Duration.ofSeconds(10)).until(() -> {
            write(a, 0);
            return a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us"));
        });
        first.close(Duration.ofSeconds(1));
        away.set(false);
        SiteShipper next = ship(a, "eu", b);
        long last = a.getValue(DATA, "last").orElseThrow().revision();
        await().atMost(Duration.ofSeconds(20)).until(() -> next.checkpoint() >= last);
        await().alias("the predecessor's behind fault cleared once the shipper caught up").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().noneMatch(f -> f.id().equals("site-behind-us")));
        assertThat(data(b)).isEqualTo(data(a));
    }

    /**
     * The same when the predecessor shipped everything: the next shipper clears the fault with the first batch it
     * applies within the threshold (not when it opens: with nothing in hand its lag says nothing).
     */
    @Test
    void theBehindFaultOfAShipperReplacedWithNothingLeftIsClearedByTheNextOnesFirstShipment() {
        AtomicBoolean away = new AtomicBoolean(true);
        SiteShipper first = ship(a, "eu", gated(b, away));
        await().alias("the behind fault after 200 ms of refused checkpoint reads").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us")));
        first.close(Duration.ofSeconds(1));
        away.set(false);
        SiteShipper next = ship(a, "eu", b);
        write(a, 1);
        long last = a.getValue(DATA, "last").orElseThrow().revision();
        await().atMost(Duration.ofSeconds(20)).until(() -> next.checkpoint() >= last);
        await().alias("the predecessor's behind fault cleared by the first shipment").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().noneMatch(f -> f.id().equals("site-behind-us")));
    }

    /**
     * Fault ids name the target site, not the store: a shipper of another store at this site that takes the behind
     * fault over and clears it must not hide a pair that is still behind; the shipper still refused raises it again.
     */
    @Test
    void aBehindFaultClearedByAnotherStoresShipperIsRaisedAgainWhileStillBehind() {
        AtomicBoolean away = new AtomicBoolean(true);
        ship(a, "eu", gated(b, away));
        // Awaitility's own pace of 100 ms: the condition writes at every look
        Awaitility.await().alias("the behind fault after 200 ms of refusals").atMost(Duration.ofSeconds(10)).until(() -> {
            write(a, 0);
            return a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us"));
        });
        java.util.concurrent.atomic.AtomicInteger removedByOther = new java.util.concurrent.atomic.AtomicInteger();
        ClusterRegistry otherSide = around(a, (method, args, proceed) -> {
            if (method.equals("removeHealthFault") && "site-behind-us".equals(args[0])) {
                removedByOther.incrementAndGet();
            }
            return proceed.call();
        });
        RegistryPath otherRoot = RegistryPath.of("Other");
        RegistryPath otherLedger = RegistryPath.of("Other", "Sites", "Applied");
        SiteShipper other = new SiteShipper(otherSide, otherRoot, "eu", b, "us", otherLedger,
                batches -> SiteShipper.replay(batches, otherLedger), Duration.ZERO, Duration.ofMillis(20), Duration.ofMillis(200));
        open.add(other);
        long written = a.commit(WriteBatch.builder().setValue(RegistryPath.of("Other", "Entities", "Order"), "x", RegistryValue.qword(1))
                .build()).sequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> other.checkpoint() >= written);
        await().alias("the other store's shipper took the fault over and cleared it").atMost(Duration.ofSeconds(10))
                .until(() -> removedByOther.get() > 0);
        await().alias("raised again by the shipper still refused").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us")));
    }

    @Test
    void aTargetThatAcceptsBatchesTooSlowlyRaisesTheBehindFaultUntilTheShipperCatchesUp() {
        AtomicBoolean slow = new AtomicBoolean(true);
        ClusterRegistry sluggish = around(b, (method, args, proceed) -> {
            if (slow.get() && method.equals("commit")) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300)); // a slow link: every commit takes 300 ms more
            }
            return proceed.call();
        });
        SiteShipper shipper = ship(a, "eu", sluggish);
        // a write at every poll: the site keeps writing faster than the link ships
        // Awaitility's own pace of 100 ms: the condition writes at every look
        Awaitility.await().alias("lagging more than 200 ms behind while every batch is accepted").atMost(Duration.ofSeconds(20)).until(() -> {
            write(a, 0);
            return a.healthFaults().stream().anyMatch(f -> f.id().equals("site-behind-us"));
        });
        assertThat(a.healthFaults()).filteredOn(f -> f.id().equals("site-behind-us")).singleElement()
                .satisfies(f -> assertThat(f.description()).contains("the target accepts batches", "more than PT0.2S", "nothing is lost"));
        assertThat(shipper.lag()).isGreaterThan(Duration.ofMillis(200));
        slow.set(false);
        write(a, 1);
        long last = a.getValue(DATA, "last").orElseThrow().revision();
        await().atMost(Duration.ofSeconds(20)).until(() -> shipper.checkpoint() >= last);
        await().alias("the behind fault cleared once the shipper caught up").atMost(Duration.ofSeconds(10))
                .until(() -> a.healthFaults().stream().noneMatch(f -> f.id().equals("site-behind-us")));
        assertThat(shipper.lag()).isLessThan(Duration.ofMillis(200));
        assertThat(data(b)).isEqualTo(data(a));
    }

    @Test
    void aBatchAfterAnOnResyncIsNeverGatheredIntoTheGroupBeforeTheGap() {
        // the test plays the local registry's watch: batches 1 and 2, then onResync (the batches after 2 were
        // dropped), then batch 100 — all while the shipper gathers for a second
        List<ChangeListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Long> openedAfter = new java.util.concurrent.CopyOnWriteArrayList<>();
        ClusterRegistry playedFeed = around(a, (method, args, proceed) -> {
            if (method.equals("watch") && args.length == 3) {
                openedAfter.add((Long) args[1]);
                listeners.add((ChangeListener) args[2]);
                long after = (Long) args[1];
                return new Watch() {
                    @Override
                    public RegistryPath subtree() {
                        return ROOT;
                    }

                    @Override
                    public long startSequence() {
                        return after;
                    }

                    @Override
                    public void close() {
                    }
                };
            }
            if (method.equals("awaitDurable")) {
                return Long.MAX_VALUE;
            }
            return proceed.call();
        });
        SiteShipper shipper = new SiteShipper(playedFeed, ROOT, "eu", b, "us", LEDGER, batches -> SiteShipper.replay(batches, LEDGER),
                Duration.ofSeconds(1), Duration.ofMillis(20), Duration.ofSeconds(30));
        open.add(shipper);
        await().atMost(Duration.ofSeconds(10)).until(() -> listeners.size() == 1);
        ChangeListener feed = listeners.get(0);
        feed.onBatch(batch(1));
        // batch 1 in hand, gathering (lag() counts a batch still queued too: an onResync before the shipper takes it drops it)
        await().atMost(Duration.ofSeconds(10)).until(shipper::holdsABatch);
        feed.onBatch(batch(2));
        feed.onResync("the listener fell behind (test)");
        feed.onBatch(batch(100));
        await().atMost(Duration.ofSeconds(10)).until(() -> openedAfter.size() == 2);
        // batch 2 joined the group or not, depending on when the shipper took it; batch 100 never does
        assertThat(openedAfter.get(0)).isZero();
        assertThat(openedAfter.get(1)).as("read on from a batch before the gap").isBetween(1L, 2L);
        assertThat(shipper.checkpoint()).isBetween(1L, 2L);
        assertThat(data(b).get("last")).isBetween(1L, 2L);
    }

    private static ChangeBatch batch(long sequence) {
        return new ChangeBatch(sequence, List.of(new dev.reliablestore.registry.Change.ValueSet(DATA, "last",
                new VersionedValue(RegistryValue.qword(sequence), sequence))));
    }

    @Test
    void nothingIsShippedBeforeItIsDurableHere() {
        // ASYNC batches are shown before their fsync: every batch applied at the target must be covered
        // by an awaitDurable answer given before it was sent
        List<long[]> events = new java.util.concurrent.CopyOnWriteArrayList<>(); // {0, answer} or {1, shipped sequence}
        ClusterRegistry local = recording(a, (method, args, result) -> {
            if (method.equals("awaitDurable")) {
                events.add(new long[] {0, (Long) result});
            }
        }, true);
        ClusterRegistry target = recording(b, (method, args, result) -> {
            if (method.equals("commit")) {
                for (BatchCommand c : ((WriteBatch) args[0]).commands()) {
                    if (c instanceof BatchCommand.SetValue sv && sv.key().equals(LEDGER)) {
                        events.add(new long[] {1, sv.value().asQword()});
                    }
                }
            }
        }, false);
        SiteShipper shipper = ship(local, "eu", target);
        for (int i = 0; i < 100; i++) {
            a.commitAsync(WriteBatch.builder().setValue(DATA, "last", RegistryValue.qword(i)).build());
        }
        long last = a.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> shipper.checkpoint() == last);
        long durable = 0;
        long shippedUpTo = 0;
        for (long[] e : events) {
            if (e[0] == 0) {
                durable = Math.max(durable, e[1]);
            } else {
                assertThat(e[1]).as("batch %d shipped after durable up to %d", e[1], durable).isLessThanOrEqualTo(durable);
                shippedUpTo = Math.max(shippedUpTo, e[1]);
            }
        }
        assertThat(shippedUpTo).isEqualTo(last);
        assertThat(shipper.shipped()).isEqualTo(100);
    }

    @Test
    void aCheckpointOlderThanTheHistoryStopsTheShipperWithThatFailure() {
        ClusterRegistry forgetful = around(a, (method, args, proceed) -> {
            if (method.equals("watch") && args.length == 3) {
                throw new FeedHistoryUnavailableException((Long) args[1], 500, "feedRetention=1h (test)");
            }
            return proceed.call();
        });
        SiteShipper shipper = ship(forgetful, "eu", b);
        await().atMost(Duration.ofSeconds(10)).until(() -> shipper.failure() != null);
        assertThat(shipper.failure()).isInstanceOf(FeedHistoryUnavailableException.class)
                .hasMessageContaining("after sequence 0").hasMessageContaining("only after sequence 500");
        assertThat(data(b)).isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.healthFaults().stream().anyMatch(f -> f.id().equals("site-resync-us")));
        assertThat(a.healthFaults()).filteredOn(f -> f.id().equals("site-resync-us")).singleElement()
                .satisfies(f -> assertThat(f.description()).contains("resync it", "only after sequence 500"));
    }

    interface Calls {
        void seen(String method, Object[] args, Object result);
    }

    /** {@code real} with each call told to {@code calls}: after it ({@code after}) or before it. */
    private static ClusterRegistry recording(ClusterRegistry real, Calls calls, boolean after) {
        return around(real, (method, args, proceed) -> {
            if (!after) {
                calls.seen(method, args, null);
            }
            Object r = proceed.call();
            if (after) {
                calls.seen(method, args, r);
            }
            return r;
        });
    }

    @Test
    void aBatchThatCameFromAnotherSiteIsNotShippedOn() {
        // b ships to a; a's own shipper to b must not send b's batches back
        SiteShipper bToA = ship(b, "us", a);
        SiteShipper aToB = ship(a, "eu", b);
        b.commit(WriteBatch.builder().setValue(DATA, "fromB", RegistryValue.qword(1)).build());
        long bLast = b.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> bToA.checkpoint() == bLast);
        a.commit(WriteBatch.builder().setValue(DATA, "fromA", RegistryValue.qword(2)).build());
        long aLast = a.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> aToB.checkpoint() == aLast);
        assertThat(data(a)).isEqualTo(data(b)).containsEntry("fromA", 2L).containsEntry("fromB", 1L);
        assertThat(aToB.shipped()).as("only a's own batch").isEqualTo(1);
        assertThat(b.getValue(LEDGER, "eu")).map(VersionedValue::value).contains(RegistryValue.qword(aLast));
        assertThat(a.getValue(LEDGER, "us")).map(VersionedValue::value).contains(RegistryValue.qword(bLast));
    }

    /**
     * A site that writes only its own bookkeeping (lease renewals, every second) for longer than its
     * feed keeps history must not leave the target's checkpoint behind that history: the next
     * reopening of the feed would stop the shipper for a resync although nothing was missed.
     */
    @Test
    void aQuietSiteMovesTheCheckpointPastBatchesItDoesNotShip() {
        SiteShipper shipper = ship(a, "eu", b);
        shipper.idleAdvance = Duration.ZERO;
        a.commit(WriteBatch.builder().setValue(DATA, "o1", RegistryValue.qword(1)).build());
        long data = a.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> shipper.checkpoint() == data);
        RegistryPath lease = RegistryPath.of("Store", "Sites", "Lease");
        for (int i = 0; i < 3; i++) {
            a.commit(WriteBatch.builder().setValue(lease, "eu", RegistryValue.qword(i)).build());
        }
        long quiet = a.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> shipper.checkpoint() == quiet);
        assertThat(b.getValue(LEDGER, "eu")).map(VersionedValue::value).contains(RegistryValue.qword(quiet));
        assertThat(shipper.shipped()).as("nothing but the entity write was shipped").isEqualTo(1);
        assertThat(b.keyExists(lease)).isFalse();
    }
}
