package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.WriteBatch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LAYOUT;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LEDGER;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LOCKS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sites of one store in one JVM — embedded registries under a test's directory, encrypted and
 * compressed values, one key ring — each with a wall clock the test sets, shipping to each other
 * through shippers and translators of a chosen cross-site policy while released.
 */
final class TestSites implements AutoCloseable {

    /** One site, as the shipper and a store see it. */
    record Site(String name, SiteReplication.Site site, EntityStates states, AtomicLong wall, HybridClock clock) {
        ClusterRegistry registry() {
            return site.registry();
        }

        /** Writes {@code json} (null: deletes) as {@code id} of the test type, a write of this site at its clock. */
        void save(String id, String json) {
            SiteTranslatorTest.write(registry(), states, clock, id, json == null ? null : json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        /** The values this site holds of the test type, by id (deleted ones left out). */
        Map<String, String> content() {
            Map<String, String> out = new TreeMap<>();
            SiteTranslatorTest.states(registry(), states).forEach((id, state) -> {
                if (!state.deleted()) {
                    out.put(id, new String(state.value(), java.nio.charset.StandardCharsets.UTF_8));
                }
            });
            return out;
        }
    }

    private final Map<String, Site> sites = new TreeMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    /** The site each shipper of {@link #shippers} ships from. */
    private final Map<SiteShipper, String> shipsFrom = new java.util.IdentityHashMap<>();
    /** Per site, what its feed has delivered ({@link #settled}). */
    private final Map<String, Feed> feeds = new TreeMap<>();
    /** Per site receiving shipments under {@code Merge}: its shipper-lease holder's round of owed merges, as SiteLinks runs it. */
    private final Map<String, java.util.concurrent.ScheduledExecutorService> mergers = new TreeMap<>();
    private final java.util.Queue<Throwable> mergeFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** The batch limit, in bytes, every site ships into ({@link #limitShippedBatches}); 0: the registry's own. */
    private long shippedBatchBytes;

    TestSites(Path dir, List<String> names) {
        KeyRing keys = SiteEnvelopesForTests.ring();
        for (String name : names) {
            ClusterRegistry r = ClusterRegistries.open("embedded:" + dir.resolve(name));
            SiteReplication.Site s = new SiteReplication.Site(name, r, LAYOUT, LOCKS,
                    SiteEnvelopesForTests.codec(LAYOUT.root().toString(), keys, name));
            AtomicLong wall = new AtomicLong(1_000_000);
            sites.put(name, new Site(name, s, s.states(), wall, new HybridClock(wall::get, Duration.ofSeconds(5))));
            feeds.put(name, new Feed(r));
        }
    }

    /**
     * A site's feed as the test reads it, from before the site's first write: the last batch it
     * delivered, and the last one a shipper of the site ships (its own writes and merges, not what
     * other sites shipped to it).
     */
    private static final class Feed {
        private final ClusterRegistry registry;
        private long delivered;
        private long lastShipped;
        /** Whether the watch said it missed batches: it is opened again from {@link #delivered}. */
        private boolean missed;
        private dev.reliablestore.registry.Watch watch;
        /** How many watches {@link #open} opened: only the last one's deliveries count. */
        private int watches;

        Feed(ClusterRegistry registry) {
            this.registry = registry;
            this.delivered = registry.currentSequence();
            open();
        }

        /**
         * Watches from {@link #delivered}; what a watch replaced meanwhile still delivers is left out.
         * The registry is called without this feed's lock, which its delivery threads take.
         */
        private void open() {
            int opened;
            long from;
            synchronized (this) {
                opened = ++watches;
                from = delivered;
            }
            dev.reliablestore.registry.Watch w = registry.watch(LAYOUT.root(), from, new dev.reliablestore.registry.ChangeListener() {
                @Override
                public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                    synchronized (Feed.this) {
                        if (opened != watches || missed || batch.sequence() <= delivered) {
                            return;
                        }
                        if (SiteShipper.shipped(batch, LAYOUT.root(), LEDGER)) {
                            lastShipped = batch.sequence();
                        }
                        delivered = batch.sequence();
                    }
                }

                @Override
                public void onResync(String reason) {
                    synchronized (Feed.this) {
                        missed |= opened == watches;
                    }
                }
            });
            synchronized (this) {
                watch = w;
            }
        }

        /** Whether every batch up to {@code sequence} was delivered (after a gap, read again from the history first). */
        boolean delivered(long sequence) {
            dev.reliablestore.registry.Watch gap;
            synchronized (this) {
                if (!missed) {
                    return delivered >= sequence;
                }
                missed = false;
                watches++; // from here on, what the watch with the gap delivers is left out
                gap = watch;
            }
            gap.close();
            open();
            return false;
        }

        synchronized long lastShipped() {
            return lastShipped;
        }

        void close() {
            dev.reliablestore.registry.Watch w;
            synchronized (this) {
                w = watch;
            }
            w.close();
        }
    }

    /**
     * From the next release on, the sites ship into registries whose batches may hold at most
     * {@code bytes} (a backend of smaller limits: {@code limits()} says so and a larger commit is refused).
     */
    void limitShippedBatches(long bytes) {
        shippedBatchBytes = bytes;
    }

    ClusterRegistry shippedInto(ClusterRegistry real) {
        if (shippedBatchBytes == 0) {
            return real;
        }
        RegistryLimits real0 = real.limits();
        RegistryLimits limits = new RegistryLimits(real0.maxValueSize(), shippedBatchBytes, real0.maxBatchCommands());
        return SiteShipperTest.around(real, (method, args, proceed) -> {
            if (method.equals("limits")) {
                return limits;
            }
            if (method.startsWith("commit") && args[0] instanceof WriteBatch b && b.encodedSize() > shippedBatchBytes) {
                throw new RegistryLimitException("write batch is " + b.encodedSize() + " bytes; the limit is " + shippedBatchBytes + " (test)",
                        b.encodedSize(), shippedBatchBytes);
            }
            return proceed.call();
        });
    }

    Site site(String name) {
        return sites.get(name);
    }

    Collection<Site> all() {
        return sites.values();
    }

    /**
     * Every site ships to every other, its translators keeping to {@code policy}; each site makes the
     * merges it owes with {@code merger} (null: it cannot), at its own clock.
     */
    void release(CrossSiteConflicts policy, SiteMerger merger, Duration window, Consumer<SiteTranslator.Conflict> conflicts) {
        for (Site from : sites.values()) {
            for (Site to : sites.values()) {
                if (from != to) {
                    ship(from.name, to.name, policy, merger, window, conflicts);
                }
            }
        }
    }

    /**
     * Site {@code from} alone ships to site {@code to} (until {@link #hold}); with a {@code merger},
     * {@code to} makes the merges it owes every 20 ms, with a clock on its own wall.
     */
    void ship(String from, String to, CrossSiteConflicts policy, SiteMerger merger, Duration window,
              Consumer<SiteTranslator.Conflict> conflicts) {
        Site f = sites.get(from);
        Site t = sites.get(to);
        ClusterRegistry into = shippedInto(t.registry());
        SiteTranslator translator = new SiteTranslator(f.states, into, t.states, f.clock, f.wall::get, window, policy, conflicts);
        SiteShipper shipper = new SiteShipper(f.registry(), LAYOUT.root(), f.name, into, t.name, LEDGER, translator, Duration.ZERO,
                Duration.ofMillis(20), Duration.ofSeconds(30));
        shippers.add(shipper);
        shipsFrom.put(shipper, from);
        if (merger != null && !mergers.containsKey(to)) {
            java.util.concurrent.ScheduledExecutorService e = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            e.scheduleWithFixedDelay(() -> {
                try {
                    PendingMerges.run(t.site, new HybridClock(t.wall::get, Duration.ofSeconds(5)), merger, conflicts);
                } catch (RuntimeException | Error failed) {
                    mergeFailures.add(failed);
                }
            }, 0, 20, java.util.concurrent.TimeUnit.MILLISECONDS);
            mergers.put(to, e);
        }
    }

    /** Stops the shippers and the sites' rounds of merges; none of them may have failed. */
    void hold() {
        shippers.forEach(SiteShipper::close);
        mergers.values().forEach(java.util.concurrent.ExecutorService::shutdown);
        mergers.values().forEach(e -> {
            try {
                assertThat(e.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).as("a round of merges ended").isTrue();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new AssertionError(interrupted);
            }
        });
        mergers.clear();
        shippers.forEach(s -> assertThat(s.failure()).as(s.toString()).isNull());
        shippers.clear();
        shipsFrom.clear();
        assertThat(mergeFailures).as("rounds of merges that failed").isEmpty();
    }

    /** Whether every shipper opened its feed at least once since the release. */
    boolean shippersStarted() {
        return shippers.stream().allMatch(x -> x.feedOpenings() > 0);
    }

    /**
     * Whether nothing is left to ship and no merge is owed: every batch a site ships (its own writes
     * and merges) is applied at every site a running shipper ships it to, and no site holds a merge
     * marker — looked at while no site committed anything (each site's sequence the same before and
     * after), so what is read is one state, not a mix of before and after a shipment or a merge. A
     * health fault raised by a shipper also moves its site's sequence without a batch of the feed:
     * the sites then never read as settled.
     */
    boolean settled() {
        Map<String, Long> before = sequences();
        for (Map.Entry<String, Long> e : before.entrySet()) {
            if (!feeds.get(e.getKey()).delivered(e.getValue())) {
                return false;
            }
        }
        for (SiteShipper s : shippers) {
            if (s.checkpoint() < feeds.get(shipsFrom.get(s)).lastShipped()) {
                return false;
            }
        }
        for (Site s : sites.values()) {
            if (s.registry().keyExists(PendingMerges.key(s.states(), SiteTranslatorTest.TYPE))
                    && !s.registry().values(PendingMerges.key(s.states(), SiteTranslatorTest.TYPE)).isEmpty()) {
                return false;
            }
        }
        return sequences().equals(before);
    }

    private Map<String, Long> sequences() {
        Map<String, Long> out = new TreeMap<>();
        sites.forEach((name, s) -> out.put(name, s.registry().currentSequence()));
        return out;
    }

    @Override
    public void close() {
        hold();
        feeds.values().forEach(Feed::close);
        sites.values().forEach(s -> s.registry().close());
    }
}
