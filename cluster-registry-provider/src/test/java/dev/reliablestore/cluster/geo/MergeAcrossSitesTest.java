package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.geo.TestSites.Site;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.TYPE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Three sites (embedded registries, encrypted values) with {@code crossSiteConflicts = Merge}: the
 * values are sets of tags, merged as their union. Concurrent updates at every site converge to the
 * union of all of them at every site, each conflict merged at the sites that settled it and each
 * merge written reported once where it was made; a write on top of a third site's settlement that
 * overtakes the loser loses nothing; a merge that no process of the site can make waits, durably,
 * for one that can; a merge owed to a write from a clock too far ahead waits until the clocks agree; a conflict with a delete is settled as last-writer-wins,
 * also against a merge made after the delete; a merge owed that was
 * written ahead of a shipment too large to carry it waits until that shipment has landed.
 */
class MergeAcrossSitesTest {

    private static final List<String> SITES = List.of("lima", "paris", "tokyo");

    /**
     * Checks at once, then every 20 ms: what these tests wait for holds within milliseconds (the
     * sites are embedded registries in this process), and Awaitility's default first delay of 100 ms
     * would be paid by every wait.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20));
    }

    @TempDir
    Path dir;
    private TestSites sites;
    private final Queue<SiteTranslator.Conflict> reported = new ConcurrentLinkedQueue<>();
    private final AtomicInteger resolverCalls = new AtomicInteger();

    /** Tags: {@code {"tags":"a,b"}}; the merge of two is their union, sorted. */
    private final SiteMerger unionOfTags = (type, id, stored, version, lost) -> {
        resolverCalls.incrementAndGet();
        TreeSet<String> tags = new TreeSet<>(tags(stored));
        tags.addAll(tags(lost));
        return json(String.join(",", tags));
    };

    private static List<String> tags(byte[] json) {
        String s = new String(json, StandardCharsets.UTF_8);
        return List.of(s.substring(s.indexOf(":\"") + 2, s.lastIndexOf('"')).split(","));
    }

    private static byte[] json(String tags) {
        return ("{\"tags\":\"" + tags + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void openSites() {
        sites = new TestSites(dir, SITES);
    }

    @AfterEach
    void closeAll() {
        sites.close();
    }

    /** Every site ships to every other; each site makes the merges it owes with {@code merger} (null: it cannot). */
    private void release(SiteMerger merger) {
        sites.release(CrossSiteConflicts.MERGE, merger, Duration.ofMinutes(10), reported::add);
    }

    private void hold() {
        sites.hold();
    }

    private Site site(String name) {
        return sites.site(name);
    }

    private static void write(Site s, String id, String tags) {
        SiteTranslatorTest.write(s.registry(), s.states(), s.clock(), id, tags == null ? null : json(tags));
    }

    private static Map<String, String> content(Site s) {
        Map<String, String> out = new TreeMap<>();
        SiteTranslatorTest.states(s.registry(), s.states()).forEach((id, state) -> out.put(id, state.deleted() ? "(deleted)"
                : String.join(",", tags(state.value()))));
        return out;
    }

    private void awaitEverySiteHolds(Map<String, String> expected) {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Site s : sites.all()) {
                assertThat(content(s)).as(s.name()).isEqualTo(expected);
            }
        });
    }

    /**
     * Waits until no site owes a merge and nothing is left to ship ({@link TestSites#settled}), looking
     * at once and then every 20 ms: each site that receives shipments makes the merges it owes every
     * 20 ms while released (as its shipper-lease holder does every second); once held, or when a
     * marker is left for a second, the wait does a round itself, once a second.
     */
    private void awaitNoMarkerLeft() {
        long[] lastRound = {System.nanoTime()};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
            if (sites.settled()) {
                return true;
            }
            if (markers() > 0 && System.nanoTime() - lastRound[0] >= TimeUnit.SECONDS.toNanos(1)) {
                for (Site s : sites.all()) {
                    PendingMerges.run(s.site(), new HybridClock(s.wall()::get, Duration.ofSeconds(5)), unionOfTags, reported::add);
                }
                lastRound[0] = System.nanoTime();
            }
            return false;
        });
    }

    private int markers() {
        int n = 0;
        for (Site s : sites.all()) {
            if (s.registry().keyExists(PendingMerges.key(s.states(), TYPE))) {
                n += s.registry().values(PendingMerges.key(s.states(), TYPE)).size();
            }
        }
        return n;
    }

    /** Every site writes each id concurrently; for id i the winner of the stamps is site i % 3. */
    private Map<String, String> concurrentUpdates(int ids) {
        Map<String, String> merged = new TreeMap<>();
        for (int i = 0; i < ids; i++) {
            String id = "e" + i;
            for (int k = 0; k < 3; k++) {
                Site s = site(SITES.get(k));
                s.wall().set(2_000_000 + i * 100 + (k == i % 3 ? 50 : k));
                write(s, id, s.name() + "-" + i);
            }
            merged.put(id, "lima-" + i + ",paris-" + i + ",tokyo-" + i);
        }
        return merged;
    }

    @Test
    void concurrentUpdatesAtEverySiteConvergeToTheirMergeEverywhere() {
        Map<String, String> union = concurrentUpdates(6);
        release(unionOfTags);
        awaitEverySiteHolds(union);
        awaitNoMarkerLeft();
        hold();
        // each merge is reported once, where it was made, with the merged write kept
        assertThat(reported).isNotEmpty().allSatisfy(c -> {
            assertThat(c.strategy()).isEqualTo("Merge");
            assertThat(c.winner().origin()).isEqualTo(c.targetSite());
            assertThat(c.loser().vector().compare(c.winner().vector())).isEqualTo(VersionVector.Order.BEFORE);
        });
        // one merge is written per conflict (its marker goes in the same batch); the resolver may run again when the
        // entity or the marker changed under it (two shipments to one site make the merges it owes at once)
        assertThat(resolverCalls.get()).isGreaterThanOrEqualTo(reported.size());
        for (int i = 0; i < 6; i++) {
            String id = "e" + i;
            assertThat(reported).filteredOn(c -> c.id().equals(id)).as(id).isNotEmpty();
        }
        // nothing is applied again: shipping from the checkpoints once more changes nothing anywhere
        Map<String, Long> sequences = new TreeMap<>();
        sites.all().forEach(s -> sequences.put(s.name(), s.registry().currentSequence()));
        release(unionOfTags);
        await().atMost(Duration.ofSeconds(10)).until(sites::shippersStarted);
        hold();
        sites.all().forEach(s -> assertThat(s.registry().currentSequence()).as(s.name()).isEqualTo(sequences.get(s.name())));
    }

    /**
     * A site that is not the winner's merges too: the state it keeps counts the loser as included,
     * so a write made there on top of it may reach the winner's site before the loser does (the
     * link from the loser's site is slow), and the winner's site then finds nothing to merge.
     */
    @Test
    void aWriteOnTopOfAThirdSitesSettlementThatOvertakesTheLoserLosesNothing() {
        Site lima = site("lima");
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        lima.wall().set(2_000_000);
        write(lima, "u", "b");
        paris.wall().set(2_000_100);
        write(paris, "u", "y"); // the winner
        tokyo.wall().set(2_000_150); // tokyo merges with its own clock, which agrees with the others'
        sites.ship("lima", "tokyo", CrossSiteConflicts.MERGE, unionOfTags, Duration.ofMinutes(10), reported::add);
        sites.ship("paris", "tokyo", CrossSiteConflicts.MERGE, unionOfTags, Duration.ofMinutes(10), reported::add);
        await().atMost(Duration.ofSeconds(30)).until(() -> "b,y".equals(content(tokyo).get("u")));
        hold();
        // a user at tokyo adds a tag to what tokyo holds; it reaches paris before lima's write does
        tokyo.wall().set(2_000_200);
        write(tokyo, "u", content(tokyo).get("u") + ",z");
        sites.ship("tokyo", "paris", CrossSiteConflicts.MERGE, unionOfTags, Duration.ofMinutes(10), reported::add);
        await().atMost(Duration.ofSeconds(30)).until(() -> "b,y,z".equals(content(paris).get("u")));
        hold();
        release(unionOfTags);
        awaitEverySiteHolds(Map.of("u", "b,y,z"));
        awaitNoMarkerLeft();
    }

    @Test
    void aMergeNoProcessOfTheSiteCanMakeWaitsForOneThatCan() {
        Map<String, String> union = concurrentUpdates(3);
        release(null);
        await().atMost(Duration.ofSeconds(30)).until(() -> markers() >= 3);
        hold();
        assertThat(resolverCalls.get()).isZero();
        // the lease holder of each site makes what its site owes, with its own clock
        for (Site s : sites.all()) {
            PendingMerges.run(s.site(), new HybridClock(s.wall()::get, Duration.ofSeconds(5)), unionOfTags, reported::add);
        }
        release(unionOfTags);
        awaitEverySiteHolds(union);
        await().atMost(Duration.ofSeconds(10)).until(() -> markers() == 0);
        assertThat(reported).isNotEmpty().allSatisfy(c -> assertThat(c.strategy()).isEqualTo("Merge"));
    }

    /**
     * A write from a site whose clock runs a minute ahead (maxClockSkew is 5 s) wins a conflict at
     * paris. The merge paris owes is its own write, made with its own clock: the winner is stamped
     * too far ahead, so the merge waits, and neither it nor paris's next save carries that clock into
     * paris (made with the shipping site's clock, the merged write would have been a paris stamp a
     * minute ahead, which paris's own saves take as they are).
     */
    @Test
    void aMergeOwedToAWriteFromAClockTooFarAheadWaitsUntilTheClocksAgree() {
        Site lima = site("lima");
        Site paris = site("paris");
        paris.wall().set(2_000_000);
        write(paris, "u", "p");
        lima.wall().set(2_060_000);
        write(lima, "u", "l");
        sites.ship("lima", "paris", CrossSiteConflicts.MERGE, unionOfTags, Duration.ofMinutes(10), reported::add);
        await().atMost(Duration.ofSeconds(30)).until(() -> "l".equals(content(paris).get("u")) && markers() == 1);
        hold();
        HybridClock parisClock = new HybridClock(paris.wall()::get, Duration.ofSeconds(5));
        assertThat(PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add)).as("merges made").isZero();
        assertThat(markers()).isEqualTo(1);
        assertThat(reported).isEmpty();
        assertThatThrownBy(() -> write(paris, "u", "p,q")).isInstanceOf(ClockSkewException.class);
        assertThat(HybridClock.physical(paris.clock().last())).as("paris's clock").isLessThan(2_000_100);

        paris.wall().set(2_060_000); // the clocks agree
        assertThat(PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add)).as("merges made").isOne();
        assertThat(content(paris)).containsEntry("u", "l,p");
        assertThat(reported).singleElement().satisfies(c -> assertThat(c.winner().origin()).isEqualTo("paris"));
    }

    @Test
    void aConflictWithADeleteIsSettledByTheLaterStamp() {
        Site lima = site("lima");
        Site paris = site("paris");
        write(lima, "d", "first");
        release(unionOfTags);
        awaitEverySiteHolds(Map.of("d", "first"));
        hold();
        lima.wall().set(3_000_000);
        write(lima, "d", "updated");
        paris.wall().set(3_000_100);
        write(paris, "d", null);
        release(unionOfTags);
        awaitEverySiteHolds(Map.of("d", "(deleted)"));
        hold();
        assertThat(markers()).isZero();
        assertThat(resolverCalls.get()).isZero();
        assertThat(reported).isNotEmpty().allSatisfy(c -> {
            assertThat(c.strategy()).isEqualTo("LastWriteWins");
            assertThat(c.winner().deleted()).isTrue();
        });
    }

    /**
     * A delete made after both updates of a conflict, but before the site that settled it made its
     * merge, wins over that merge: the merged write is stamped just after the writes it merges, not
     * when it is made (stamped then, it beat the earlier delete at every site, as a later write).
     */
    @Test
    void aDeleteMadeAfterBothUpdatesBeatsAMergeMadeLater() {
        Site lima = site("lima");
        Site paris = site("paris");
        lima.wall().set(2_000_000);
        write(lima, "x", "a");
        paris.wall().set(2_000_100);
        write(paris, "x", "b");
        sites.ship("lima", "paris", CrossSiteConflicts.MERGE, null, Duration.ofMinutes(10), reported::add);
        await().atMost(Duration.ofSeconds(30)).until(() -> markers() == 1); // "a" met "b" at paris: a merge is owed there
        hold();
        lima.wall().set(2_000_160);
        write(lima, "x", null); // after both updates
        paris.wall().set(2_000_900);
        assertThat(PendingMerges.run(paris.site(), new HybridClock(paris.wall()::get, Duration.ofSeconds(5)), unionOfTags, reported::add))
                .as("merges made").isOne();
        assertThat(content(paris)).containsEntry("x", "a,b");

        release(unionOfTags);
        awaitEverySiteHolds(Map.of("x", "(deleted)"));
        awaitNoMarkerLeft();
    }

    /**
     * Eight entities of about 3 KiB updated concurrently at lima and at paris (later), each site's in
     * one batch; lima's translated at paris, whose batches may hold 32 KiB, cannot carry the eight
     * markers with it: they are written ahead. Until lima's batch lands, a merge of them would merge
     * paris's value with itself and drop the marker; it is not made. Once it lands, it is.
     */
    @Test
    void aMergeOwedAheadOfItsShipmentWaitsUntilTheShipmentHasLanded() throws Exception {
        Site lima = site("lima");
        Site paris = site("paris");
        Map<String, byte[]> atLima = new TreeMap<>();
        Map<String, byte[]> atParis = new TreeMap<>();
        Map<String, String> union = new TreeMap<>();
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 8; i++) {
            String[] noise = new String[2];
            for (int k = 0; k < 2; k++) {
                byte[] bytes = new byte[2304];
                random.nextBytes(bytes);
                noise[k] = java.util.Base64.getEncoder().encodeToString(bytes);
            }
            atLima.put("big" + i, json("lima-" + i + "," + noise[0]));
            atParis.put("big" + i, json("paris-" + i + "," + noise[1]));
            union.put("big" + i, String.join(",", new TreeSet<>(List.of("lima-" + i, noise[0], "paris-" + i, noise[1]))));
        }
        ConflictRecordsTest.saveBatch(lima, atLima);
        paris.wall().set(1_000_100);
        ConflictRecordsTest.saveBatch(paris, atParis);
        Map<String, String> parisBefore = content(paris);

        dev.reliablestore.registry.ChangeBatch limasBatch = lastBatch(lima);
        sites.limitShippedBatches(32 * 1024);
        SiteTranslator translator = new SiteTranslator(lima.states(), sites.shippedInto(paris.registry()), paris.states(), lima.clock(),
                lima.wall()::get, Duration.ofMinutes(10), CrossSiteConflicts.MERGE, reported::add);
        List<dev.reliablestore.registry.BatchCommand> shipment = translator.commands(List.of(limasBatch));
        assertThat(markers()).as("written ahead").isEqualTo(8);

        HybridClock parisClock = new HybridClock(paris.wall()::get, Duration.ofSeconds(5));
        assertThat(PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add)).isZero();
        assertThat(markers()).isEqualTo(8);
        assertThat(content(paris)).isEqualTo(parisBefore);

        paris.registry().commit(dev.reliablestore.registry.WriteBatch.of(shipment)); // lands (the shipper would add its ledger)
        assertThat(PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add)).isEqualTo(8);
        assertThat(markers()).isZero();
        assertThat(content(paris)).isEqualTo(union);
    }

    /** The latest batch in {@code s}'s history, as its feed delivers it. */
    private static dev.reliablestore.registry.ChangeBatch lastBatch(Site s) throws InterruptedException {
        java.util.concurrent.BlockingQueue<dev.reliablestore.registry.ChangeBatch> fed = new java.util.concurrent.LinkedBlockingQueue<>();
        long last = s.registry().currentSequence();
        dev.reliablestore.registry.ChangeBatch batch;
        dev.reliablestore.registry.Watch w = s.registry().watch(SiteTranslatorTest.LAYOUT.root(), 0, new dev.reliablestore.registry.ChangeListener() {
            @Override
            public void onBatch(dev.reliablestore.registry.ChangeBatch b) {
                fed.add(b);
            }

            @Override
            public void onResync(String reason) {
                throw new AssertionError(reason);
            }
        });
        try {
            do {
                batch = fed.poll(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(batch).as("the batch in the history of " + s.name()).isNotNull();
            } while (batch.sequence() < last);
        } finally {
            w.close();
        }
        return batch;
    }

    /** Eight ids of about 3 KiB of tags each, {@code <site>-<i>} and noise that zstd cannot shrink. */
    private static Map<String, byte[]> eightLarge(String site, Random random, Map<String, java.util.Set<String>> tags) {
        Map<String, byte[]> out = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            byte[] bytes = new byte[2304];
            random.nextBytes(bytes);
            String noise = java.util.Base64.getEncoder().encodeToString(bytes);
            out.put("big" + i, json(site + "-" + i + "," + noise));
            tags.computeIfAbsent("big" + i, k -> new TreeSet<>()).addAll(List.of(site + "-" + i, noise));
        }
        return out;
    }

    /**
     * The same shipment translated twice, the target changed in between: paris's values lose to
     * lima's later ones, so the first translation writes eight markers ahead (paris's values lost);
     * then paris writes big0 again, later than lima, so the second translation settles big0 the other
     * way (lima's value lost). The marker of paris's old big0 is withdrawn before the shipment goes
     * again — merged, it would bring back a value paris itself overwrote — and the merges leave big0
     * the union of paris's new value and lima's, the others the union of both sites' first values.
     */
    @Test
    void aMarkerWrittenAheadThatATranslationDoneAgainNoLongerSettlesIsWithdrawn() throws Exception {
        Site lima = site("lima");
        Site paris = site("paris");
        Map<String, java.util.Set<String>> parisFirst = new TreeMap<>();
        Map<String, java.util.Set<String>> limas = new TreeMap<>();
        Shipment limas8 = eightConflictsTooLargeToCarry(lima, paris, new Random(5), parisFirst, limas);
        dev.reliablestore.registry.ChangeBatch limasBatch = limas8.batch();
        SiteTranslator translator = limas8.translator();
        translator.commands(List.of(limasBatch));
        assertThat(markerNames(paris)).hasSize(8).allSatisfy(n -> assertThat(n).contains("-paris-"));

        paris.wall().set(1_000_200);
        byte[] again = json("paris-again,tag");
        SiteTranslatorTest.write(paris.registry(), paris.states(), paris.clock(), "big0", again);
        List<dev.reliablestore.registry.BatchCommand> shipment = translator.commands(List.of(limasBatch));
        List<String> names = markerNames(paris);
        assertThat(names).hasSize(8);
        assertThat(names).filteredOn(n -> n.contains("-lima-")).hasSize(1);

        paris.registry().commit(dev.reliablestore.registry.WriteBatch.of(shipment));
        translator.applied(List.of(limasBatch), true);
        HybridClock parisClock = new HybridClock(paris.wall()::get, Duration.ofSeconds(5));
        PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add);
        assertThat(markers()).isZero();
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            TreeSet<String> union = new TreeSet<>(limas.get("big" + i));
            union.addAll(i == 0 ? List.of("paris-again", "tag") : parisFirst.get("big" + i));
            expected.put("big" + i, String.join(",", union));
        }
        assertThat(content(paris)).isEqualTo(expected);
    }

    /**
     * A shipment whose markers were written ahead lands, but its shipper does not learn it (the
     * outcome was unknown) and translates it again: against the target as it is now, nothing is left
     * to settle. The markers are the landed shipment's and stay — withdrawn, the merges owed would be
     * lost and paris would keep lima's values alone — and the merges then make the unions.
     */
    @Test
    void markersWrittenAheadOfAShipmentThatLandedUnbeknownStay() throws Exception {
        Site lima = site("lima");
        Site paris = site("paris");
        Map<String, java.util.Set<String>> tags = new TreeMap<>();
        Shipment limas8 = eightConflictsTooLargeToCarry(lima, paris, new Random(7), tags, tags);
        dev.reliablestore.registry.ChangeBatch limasBatch = limas8.batch();
        SiteTranslator translator = limas8.translator();
        List<dev.reliablestore.registry.BatchCommand> shipment = translator.commands(List.of(limasBatch));
        assertThat(markers()).as("written ahead").isEqualTo(8);
        ShipmentLedger ledger = new ShipmentLedger(paris.registry(), SiteReplication.ledgerKey(SiteTranslatorTest.LAYOUT), "lima");
        assertThat(ledger.apply(limasBatch.sequence(), shipment)).isEqualTo(ShipmentLedger.Outcome.APPLIED);

        assertThat(translator.commands(List.of(limasBatch))).as("nothing left to settle").isEmpty();
        assertThat(markers()).as("the landed shipment's markers").isEqualTo(8);
        assertThat(new ShipmentLedger(paris.registry(), SiteReplication.ledgerKey(SiteTranslatorTest.LAYOUT), "lima")
                .apply(limasBatch.sequence(), List.of())).isEqualTo(ShipmentLedger.Outcome.ALREADY_APPLIED);
        translator.applied(List.of(limasBatch), false);

        HybridClock parisClock = new HybridClock(paris.wall()::get, Duration.ofSeconds(5));
        assertThat(PendingMerges.run(paris.site(), parisClock, unionOfTags, reported::add)).isEqualTo(8);
        Map<String, String> expected = new TreeMap<>();
        tags.forEach((id, t) -> expected.put(id, String.join(",", t)));
        assertThat(content(paris)).isEqualTo(expected);
    }

    /** A batch of lima's as its shipper would translate it into paris. */
    private record Shipment(dev.reliablestore.registry.ChangeBatch batch, SiteTranslator translator) {
    }

    /**
     * Eight large values written at paris, then later at lima in one batch ({@link #eightLarge}):
     * lima's batch, which beats paris's eight and is too large (shipped batches limited to 32 KiB) to
     * carry the markers of the merges it leaves owed, and a translator of lima's into paris.
     */
    private Shipment eightConflictsTooLargeToCarry(Site lima, Site paris, Random random, Map<String, java.util.Set<String>> parisTags,
                                                   Map<String, java.util.Set<String>> limaTags) throws InterruptedException {
        ConflictRecordsTest.saveBatch(paris, eightLarge("paris", random, parisTags));
        lima.wall().set(1_000_100);
        ConflictRecordsTest.saveBatch(lima, eightLarge("lima", random, limaTags));
        dev.reliablestore.registry.ChangeBatch limasBatch = lastBatch(lima);
        sites.limitShippedBatches(32 * 1024);
        return new Shipment(limasBatch, new SiteTranslator(lima.states(), sites.shippedInto(paris.registry()), paris.states(), lima.clock(),
                lima.wall()::get, Duration.ofMinutes(10), CrossSiteConflicts.MERGE, reported::add));
    }

    private static List<String> markerNames(Site s) {
        return List.copyOf(s.registry().values(PendingMerges.key(s.states(), TYPE)).keySet());
    }
}
