package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Three sites in one JVM (embedded registries, encrypted and compressed values) merging each other's
 * entity writes through shippers and translators: replication held, conflicting writes at every
 * site, released; every site converges to the write with the greatest stamp and the conflicts are
 * reported. Local writes are {@link LocalWrites}' plans, committed as the provider's write path
 * will commit them once sites are configurable.
 */
class SiteTranslatorTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    static final StorageLayout LAYOUT = new StorageLayout(RegistryPath.of("Store"));
    static final RegistryPath LOCKS = RegistryPath.of("Store", "Transactions", "Locks");
    static final RegistryPath LEDGER = RegistryPath.of("Store", "Sites", "Applied");
    static final String TYPE = "Order";
    static final List<String> SITES = List.of("lima", "paris", "tokyo");

    /** One site: its registry, its entities, its clock with a wall the test sets. */
    record Site(String name, ClusterRegistry registry, EntityStates states, AtomicLong wall, HybridClock clock) {
    }

    @TempDir
    Path dir;
    private final Map<String, Site> sites = new TreeMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    private final Queue<SiteTranslator.Conflict> conflicts = new ConcurrentLinkedQueue<>();
    private final KeyRing keys = SiteEnvelopesForTests.ring();

    @BeforeEach
    void openSites() {
        for (String name : SITES) {
            ClusterRegistry r = ClusterRegistries.open("embedded:" + dir.resolve(name));
            AtomicLong wall = new AtomicLong(1_000_000);
            sites.put(name, new Site(name, r, states(name), wall, new HybridClock(wall::get, Duration.ofSeconds(5))));
        }
    }

    private EntityStates states(String site) {
        return new EntityStates(LAYOUT, LOCKS, SiteEnvelopesForTests.codec(LAYOUT.root().toString(), keys, site), site);
    }

    @AfterEach
    void closeAll() {
        hold();
        sites.values().forEach(s -> s.registry.close());
    }

    private Site site(String name) {
        return sites.get(name);
    }

    /** Every site ships to every other. */
    private void release() {
        for (Site from : sites.values()) {
            for (Site to : sites.values()) {
                if (from != to) {
                    shippers.add(shipper(from, to, to.registry));
                }
            }
        }
    }

    private SiteShipper shipper(Site from, Site to, ClusterRegistry target) {
        return shipper(from, to, target, Duration.ZERO);
    }

    private SiteShipper shipper(Site from, Site to, ClusterRegistry target, Duration gather) {
        SiteTranslator t = new SiteTranslator(from.states, target, to.states, from.clock, conflicts::add);
        return new SiteShipper(from.registry, LAYOUT.root(), from.name, target, to.name, LEDGER, t, gather, Duration.ofMillis(20),
                Duration.ofSeconds(30));
    }

    private void hold() {
        shippers.forEach(SiteShipper::close);
        shippers.forEach(s -> assertThat(s.failure()).as(s.toString()).isNull());
        shippers.clear();
    }

    private static void save(Site s, String id, String json) {
        write(s, id, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void delete(Site s, String id) {
        write(s, id, null);
    }

    private static void write(Site s, String id, byte[] json) {
        write(s.registry, s.states, s.clock, id, json);
    }

    /**
     * A save (or with null, a delete) at a site as the provider will write it there ({@link LocalWrites}):
     * the entity's state read, the next one stamped after it, written on the condition that the read
     * state is still there (else read again). The state written; null for a delete of nothing.
     */
    static SiteState write(ClusterRegistry r, EntityStates states, HybridClock clock, String id, byte[] json) {
        LocalWrites writes = new LocalWrites(states, clock);
        Map<String, byte[]> one = new java.util.HashMap<>();
        one.put(id, json);
        LocalWrites.Reading reading = writes.reading(TYPE, one.keySet());
        while (true) {
            LocalWrites.Plan plan = writes.plan(reading, one, r.read(ReadBatch.of(reading.reads())));
            if (plan.isEmpty()) {
                return null;
            }
            WriteBatch.Builder b = WriteBatch.builder();
            plan.commands().forEach(b::add);
            try {
                r.commit(b.build());
                return plan.written().get(id);
            } catch (ConditionFailedException raced) {
                // a shipped batch changed the entity between the read and the commit: read again
            }
        }
    }

    /** What a site holds: id → JSON, or "(deleted)" for a tombstone. */
    private static Map<String, String> content(Site s) {
        Map<String, String> out = new TreeMap<>();
        states(s.registry, s.states).forEach((id, state) -> out.put(id, state.deleted() ? "(deleted)"
                : new String(state.value(), StandardCharsets.UTF_8)));
        return out;
    }

    /** Every entity's state at a site, read at one point in time (envelopes, versions and tombstones together). */
    static Map<String, SiteState> states(ClusterRegistry r, EntityStates states) {
        ReadBatchResult read = r.read(ReadBatch.of(new ReadBatch.ValuesRead(LAYOUT.type(TYPE)), new ReadBatch.ValuesRead(LAYOUT.versions(TYPE)),
                new ReadBatch.ValuesRead(LAYOUT.tombstones(TYPE))));
        Map<String, VersionedValue> envelopes = read.values(0).orElse(Map.of());
        Map<String, SiteState> out = new TreeMap<>();
        read.values(1).orElse(Map.of()).forEach((id, v) -> out.put(id,
                states.opened(TYPE, id, v.value().asQword(), envelopes.get(id).value().asBinary())));
        read.values(2).orElse(Map.of()).forEach((id, v) -> {
            assertThat(out).as("an entity with a tombstone").doesNotContainKey(id);
            out.put(id, states.tombstone(TYPE, id, v.value().asBinary()));
        });
        return out;
    }

    private static Map<String, VersionedValue> values(ClusterRegistry r, RegistryPath key) {
        return r.keyExists(key) ? r.values(key) : Map.of();
    }

    private static String value(String site, String id) {
        return "{\"by\":\"" + site + "\",\"id\":\"" + id + "\"}";
    }

    private void awaitEverySiteHolds(Map<String, String> expected) {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Site s : sites.values()) {
                assertThat(content(s)).as(s.name).isEqualTo(expected);
            }
        });
    }

    private List<String> losers(String id, String at) {
        return conflicts.stream().filter(c -> c.id().equals(id) && c.targetSite().equals(at))
                .map(c -> c.loser().deleted() ? "(deleted)" : new String(c.loser().value(), StandardCharsets.UTF_8)).sorted().toList();
    }

    /**
     * A write that reaches a site later than the conflict-resolution window after it was made, and
     * meets nothing there, stops the shipper with site-resync: the site may have collected the
     * tombstone of a delete that beats it elsewhere. One that meets a state there is merged as ever.
     */
    @Test
    void aWriteOlderThanTheWindowThatMeetsNothingStopsTheShipperForAResync() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(tokyo, "met", "{\"v\":0}");
        paris.wall.incrementAndGet();
        save(paris, "met", "{\"v\":1}"); // a millisecond later than tokyo's: it wins there
        paris.wall.addAndGet(Duration.ofMinutes(11).toMillis()); // the write is now 11 minutes old at paris
        SiteShipper first = windowed(paris, tokyo);
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content(tokyo).get("met")).isEqualTo("{\"v\":1}"));
            assertThat(first.failure()).isNull();
        } finally {
            first.close();
        }

        save(paris, "alone", "{\"v\":1}");
        paris.wall.addAndGet(Duration.ofMinutes(11).toMillis());
        SiteShipper second = windowed(paris, tokyo);
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> second.failure() != null);
            assertThat(second.failure()).isInstanceOf(ConflictWindowExceededException.class)
                    .hasMessageContaining("Order/alone").hasMessageContaining("resync site tokyo");
            // the shipper records why it stopped, then raises the fault
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(paris.registry.healthFaults()).extracting(HealthFault::id).contains("site-resync-tokyo"));
            assertThat(content(tokyo)).doesNotContainKey("alone");
        } finally {
            second.close();
        }
    }

    /**
     * Sites collect tombstones at their own times. Paris deleted an entity both sites wrote, collected
     * the tombstone, and re-created the entity (its vector no longer knows tokyo's write); tokyo still
     * holds the tombstone, past the window. The re-creation lands there as at a site that collected
     * it: applied, and no conflict with a delete both sides forgot or will forget.
     */
    @Test
    void anEntityReCreatedWhereItsTombstoneWasCollectedLandsWithoutAConflictWhereItWasNotYet() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(tokyo, "x", "{\"v\":1}");
        SiteShipper toParis = windowed(tokyo, paris);
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content(paris).get("x")).isEqualTo("{\"v\":1}"));
        } finally {
            toParis.close();
        }
        deleteXAtParisShippedToTokyoThenPastTheWindow(paris, tokyo);
        paris.registry.commit(WriteBatch.builder().deleteValue(LAYOUT.tombstones(TYPE), "x").build()); // paris's collector ran, tokyo's not yet
        save(paris, "x", "{\"v\":2}");
        conflicts.clear();
        SiteShipper again = windowed(paris, tokyo);
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content(tokyo).get("x")).isEqualTo("{\"v\":2}"));
            assertThat(again.failure()).isNull();
        } finally {
            again.close();
        }
        assertThat(conflicts).isEmpty();
        assertThat(states(tokyo.registry, tokyo.states).get("x")).isEqualTo(states(paris.registry, paris.states).get("x"));
    }

    /**
     * A delete older than the window that meets nothing at the target (it collected the tombstone
     * already) is no late write: it cannot bring anything back, so it is not a reason to stop shipping.
     * Its tombstone is written again, for the target's collector to remove by its own clock (with the
     * skew margin), so that a create older than it, judged younger than the window by a clock behind,
     * cannot arrive next and be applied there alone. Re-encrypting keys rewrites tombstones with their
     * stamps, which ships exactly that.
     */
    @Test
    void aLateDeleteThatMeetsNothingLeavesItsTombstoneAndShippingGoesOn() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "x", "{\"v\":1}");
        deleteXAtParisShippedToTokyoThenPastTheWindow(paris, tokyo);
        tokyo.registry.commit(WriteBatch.builder().deleteValue(LAYOUT.tombstones(TYPE), "x").build()); // tokyo's collector ran, paris's not yet
        RegistryValue tombstone = paris.registry.getValue(LAYOUT.tombstones(TYPE), "x").orElseThrow().value();
        paris.registry.commit(WriteBatch.builder().setValue(LAYOUT.tombstones(TYPE), "x", tombstone).build()); // rewritten, same stamp
        save(paris, "y", "{\"v\":1}");
        SiteShipper again = windowed(paris, tokyo);
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(again.failure()).isNull();
                assertThat(content(tokyo).get("y")).isEqualTo("{\"v\":1}");
            });
        } finally {
            again.close();
        }
        assertThat(content(tokyo).get("x")).as("the tombstone, for tokyo's collector").isEqualTo("(deleted)");
        assertThat(paris.registry.healthFaults()).noneMatch(f -> f.id().startsWith("site-resync"));
        assertThat(tokyo.registry.healthFaults()).noneMatch(f -> f.id().startsWith("site-resync"));
    }

    /** Paris deletes x, the delete lands at tokyo, then both clocks move past the window: either may collect the tombstone. */
    private void deleteXAtParisShippedToTokyoThenPastTheWindow(Site paris, Site tokyo) {
        paris.wall.addAndGet(10);
        delete(paris, "x");
        SiteShipper toTokyo = windowed(paris, tokyo);
        try {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content(tokyo).get("x")).isEqualTo("(deleted)"));
        } finally {
            toTokyo.close();
        }
        long later = Duration.ofMinutes(11).toMillis();
        paris.wall.addAndGet(later);
        tokyo.wall.addAndGet(later);
    }

    /** A shipper whose translator keeps tombstones for a window of 10 minutes. */
    private SiteShipper windowed(Site from, Site to) {
        SiteTranslator t = new SiteTranslator(from.states, to.registry, to.states, from.clock, from.wall::get, Duration.ofMinutes(10),
                conflicts::add);
        return new SiteShipper(from.registry, LAYOUT.root(), from.name, to.registry, to.name, LEDGER, t, Duration.ZERO,
                Duration.ofMillis(20), Duration.ofSeconds(30));
    }

    @Test
    void concurrentWritesAtEverySiteConvergeToTheLatestStampAndEveryConflictIsReported() {
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 9; i++) {
            String id = "c" + i;
            String winner = SITES.get(i % 3);
            for (int k = 0; k < 3; k++) {
                Site s = site(SITES.get(k));
                s.wall.set(2_000_000 + i * 100 + (s.name.equals(winner) ? 50 : k));
                save(s, id, value(s.name, id));
            }
            expected.put(id, value(winner, id));
        }
        for (Site s : sites.values()) {
            assertThat(content(s)).as("before release, each site sees its own writes").allSatisfy((id, json) ->
                    assertThat(json).isEqualTo(value(s.name, id)));
        }

        release();
        awaitEverySiteHolds(expected);

        // A conflict is told once the batch that settled it is applied, which may be after its state is readable (the
        // winner's site holds its own write from the start), so the shippers run until every loser has arrived
        await().untilAsserted(() -> {
            for (int i = 0; i < 9; i++) {
                String id = "c" + i;
                String winner = SITES.get(i % 3);
                List<String> others = SITES.stream().filter(x -> !x.equals(winner)).map(x -> value(x, id)).sorted().toList();
                assertThat(losers(id, winner)).as("at the winner's site both other writes arrive and lose").isEqualTo(others);
                assertThat(conflicts).filteredOn(c -> c.id().equals(id) && c.targetSite().equals(winner))
                        .allSatisfy(c -> assertThat(new String(c.winner().value(), StandardCharsets.UTF_8)).isEqualTo(value(winner, id)));
                // elsewhere a conflict may be between two writes that both lose to the third later
                assertThat(conflicts).filteredOn(c -> c.id().equals(id)).allSatisfy(c -> {
                    assertThat(c.loser().vector().compare(c.winner().vector())).as("the state kept includes the losing write")
                            .isEqualTo(VersionVector.Order.BEFORE);
                });
            }
        });
        hold();
        // nothing is applied twice: shipping again from the checkpoints changes nothing anywhere
        Map<String, Long> sequences = sites.values().stream().collect(Collectors.toMap(Site::name, s -> s.registry.currentSequence()));
        release();
        await().atMost(Duration.ofSeconds(10)).until(() -> shippers.stream().allMatch(x -> x.feedOpenings() > 0));
        hold();
        sites.values().forEach(s -> assertThat(s.registry.currentSequence()).as(s.name).isEqualTo(sequences.get(s.name)));
    }

    @Test
    void aDeleteAndAConcurrentUpdateResolveByStampAndATombstoneStopsAnOlderWrite() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "d1", value("paris", "d1"));
        save(paris, "d2", value("paris", "d2"));
        save(paris, "d3", value("paris", "d3"));
        release();
        awaitEverySiteHolds(Map.of("d1", value("paris", "d1"), "d2", value("paris", "d2"), "d3", value("paris", "d3")));
        hold();

        // d1: the delete is later; d2: the update is later
        paris.wall.set(3_000_100);
        delete(paris, "d1");
        tokyo.wall.set(3_000_000);
        save(tokyo, "d1", "{\"by\":\"tokyo\",\"v\":2}");
        paris.wall.set(3_000_200);
        delete(paris, "d2");
        tokyo.wall.set(3_000_300);
        save(tokyo, "d2", "{\"by\":\"tokyo\",\"v\":2}");
        // d3: updated at paris, deleted later at lima: the tombstone stops the older update everywhere
        paris.wall.set(3_000_400);
        save(paris, "d3", "{\"by\":\"paris\",\"v\":2}");
        site("lima").wall.set(3_000_500);
        delete(site("lima"), "d3");

        release();
        awaitEverySiteHolds(Map.of("d1", "(deleted)", "d2", "{\"by\":\"tokyo\",\"v\":2}", "d3", "(deleted)"));
        // A conflict is told once the batch that settled it is applied, which may be after its state is readable:
        // lima holds d3 deleted before paris's older update reaches it, so the shippers run until that is told too
        // (held first, paris's batch never reached lima and its conflict was never told)
        await().untilAsserted(() -> {
            assertThat(losers("d1", "paris")).containsExactly("{\"by\":\"tokyo\",\"v\":2}");
            assertThat(losers("d2", "tokyo")).containsExactly("(deleted)");
            assertThat(losers("d3", "lima")).containsExactly("{\"by\":\"paris\",\"v\":2}");
        });
        hold();

        // a write that saw the tombstone revives the entity everywhere, without a conflict. Conflicts of the writes above
        // may still be told at a site the test did not wait on (d3's at tokyo, say): only one involving this write counts
        save(tokyo, "d1", "{\"by\":\"tokyo\",\"v\":3}");
        release();
        awaitEverySiteHolds(Map.of("d1", "{\"by\":\"tokyo\",\"v\":3}", "d2", "{\"by\":\"tokyo\",\"v\":2}", "d3", "(deleted)"));
        java.util.function.Predicate<SiteState> revival = st -> !st.deleted()
                && new String(st.value(), StandardCharsets.UTF_8).equals("{\"by\":\"tokyo\",\"v\":3}");
        // told once the batch that settled it is applied, maybe after the state is readable: watched for a while
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> conflicts.stream().noneMatch(c -> revival.test(c.winner()) || revival.test(c.loser())));
    }

    @Test
    @SuppressWarnings("try") // the watch counts while open
    void aBatchIsAppliedWholeAtEverySite() {
        Site lima = site("lima");
        lima.wall.set(4_000_000);
        // one registry batch writing three entities, as saveBatch does: one stamp for all of them
        SiteState state = null;
        List<BatchCommand> commands = new ArrayList<>();
        for (String id : List.of("b1", "b2", "b3")) {
            ReadBatchResult r = lima.registry.read(ReadBatch.of(lima.states.reads(TYPE, id)));
            EntityStates.Current current = lima.states.current(TYPE, id, r, 0);
            state = state == null ? SiteState.write(null, value("lima", id).getBytes(StandardCharsets.UTF_8), "lima", lima.clock)
                    : new SiteState(value("lima", id).getBytes(StandardCharsets.UTF_8), state.hlc(), "lima", state.vector());
            lima.states.write(commands, TYPE, id, state, current);
        }
        WriteBatch.Builder b = WriteBatch.builder();
        commands.forEach(b::add);
        lima.registry.commit(b.build());
        // paris wrote b2 concurrently, later: it wins b2 and only b2
        Site paris = site("paris");
        paris.wall.set(4_000_050);
        save(paris, "b2", value("paris", "b2"));

        List<Long> atTokyo = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (var w = site("tokyo").registry.watch(LAYOUT.type(TYPE), new dev.reliablestore.registry.ChangeListener() {
            @Override
            public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                atTokyo.add(batch.sequence());
            }

            @Override
            public void onResync(String reason) {
                atTokyo.add(-1L);
            }
        })) {
            release();
            awaitEverySiteHolds(Map.of("b1", value("lima", "b1"), "b2", value("paris", "b2"), "b3", value("lima", "b3")));
            hold();
            // the watch delivers on its own thread, in commit order: once a later batch of tokyo's own is in, every
            // batch that landed before it is too (the states above were read before some deliveries ended)
            long marker = site("tokyo").registry.commit(WriteBatch.builder()
                    .setValue(LAYOUT.type(TYPE).child("delivered-up-to-here"), "m", RegistryValue.dword(1)).build()).sequence();
            await().until(() -> atTokyo.contains(marker));
            assertThat(atTokyo).as("lima's batch lands at tokyo as one batch, paris's as another (then the marker)")
                    .hasSize(3).doesNotContain(-1L);
        }
    }

    @Test
    void batchesGatheredTogetherLandAsOneBatchWithEachEntitysLastWriteAndAreSplitToFitTheTargetsLimits() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        for (int i = 0; i < 8; i++) {
            for (int round = 0; round < 10; round++) {
                save(paris, "g" + i, "{\"round\":" + round + "}");
            }
        }
        long last = paris.registry.currentSequence();
        // 80 batches waiting; a target that takes at most 16 commands per batch (7 per entity + the ledger's 2)
        AtomicLong commits = new AtomicLong();
        ClusterRegistry small = SiteShipperTest.around(tokyo.registry, (method, args, proceed) -> {
            if (method.equals("limits")) {
                dev.reliablestore.registry.RegistryLimits real = (dev.reliablestore.registry.RegistryLimits) proceed.call();
                return new dev.reliablestore.registry.RegistryLimits(real.maxValueSize(), real.maxBatchBytes(), 16);
            }
            if (method.equals("commit")) {
                assertThat(((WriteBatch) args[0]).commands()).hasSizeLessThanOrEqualTo(16);
                commits.incrementAndGet();
            }
            return proceed.call();
        });
        SiteShipper s = shipper(paris, tokyo, small, Duration.ofMillis(500));
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == last);
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            expected.put("g" + i, "{\"round\":9}");
        }
        assertThat(content(tokyo)).isEqualTo(expected);
        assertThat(s.shipped()).isEqualTo(80);
        assertThat(commits.get()).as("80 batches in fewer commits, none over the limit").isLessThan(80);
        // each entity changed at tokyo fewer times than it was written at paris
        assertThat(values(tokyo.registry, LAYOUT.versions(TYPE)).values()).allSatisfy(v -> assertThat(v.value().asQword()).isLessThan(10));
    }

    @Test
    void aConflictIsReportedOnceWhenACommitLandedButItsAnswerWasLost() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        paris.wall.set(6_000_000);
        save(paris, "u1", value("paris", "u1"));
        long last = paris.registry.currentSequence();
        tokyo.wall.set(6_000_100);
        save(tokyo, "u1", value("tokyo", "u1"));
        // the first commit at tokyo lands, and its answer is lost
        AtomicBoolean lost = new AtomicBoolean();
        ClusterRegistry lossy = SiteShipperTest.afterFirst(tokyo.registry, "commit", () -> {
            lost.set(true);
            throw new dev.reliablestore.registry.RegistryUnavailableException("the answer was lost (test)", null);
        });
        SiteShipper s = shipper(paris, tokyo, lossy);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == last);
        assertThat(lost).isTrue();
        assertThat(s.shipped()).as("found applied on the second attempt").isZero();
        assertThat(losers("u1", "tokyo")).containsExactly(value("paris", "u1"));
    }

    /** A new id written without a stamp since sites were configured: the fault offers the repair that keeps the target's writes. */
    @Test
    void aNewIdWrittenWithoutAStampStopsTheShipperWithARepairThatKeepsTheTargetsWrites() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(tokyo, "t", value("tokyo", "t"));
        saveUnstamped(paris, "new", value("paris", "new"), 1);
        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("writes Order/new without a stamp", "or since by a node without the sites options",
                "sites resync --from paris --to tokyo", "if site tokyo was never seeded");
        shippers.remove(s);
        s.close();
    }

    @Test
    void aValueWrittenBeforeSitesWereConfiguredStopsTheShipperInsteadOfDivergingTheSites() {
        Site paris = site("paris");
        // a value paris's store wrote before it had sites: no stamp, bound to no site
        byte[] unstamped = SiteEnvelopesForTests.codec(LAYOUT.root().toString(), keys, null)
                .seal(TYPE, "old", 1, value("paris", "old").getBytes(StandardCharsets.UTF_8), null).envelope();
        paris.registry.commit(WriteBatch.builder().setValue(LAYOUT.type(TYPE), "old", RegistryValue.binary(unstamped))
                .setValue(LAYOUT.versions(TYPE), "old", RegistryValue.qword(1)).build());

        SiteShipper s = shipper(paris, site("tokyo"), site("tokyo").registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("writes Order/old without a stamp", "if site tokyo was never seeded, seed it from site paris");
        assertThat(content(site("tokyo"))).isEmpty();
        shippers.remove(s);
        s.close();
    }

    /**
     * A restore from a backup deletes a site's contents without tombstones: the shipper stops, and
     * says to repair the restored site with {@code sites resync} rather than seed the others from it.
     */
    @Test
    void aDeleteThatLeftNoTombstoneStopsTheShipperAndPointsARestoredSiteToResync() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "u1", value("paris", "u1"));
        // as restore --force deletes a large store's entities: the value and its version record, no tombstone
        paris.registry.commit(WriteBatch.builder().deleteValue(LAYOUT.type(TYPE), "u1").deleteValue(LAYOUT.versions(TYPE), "u1").build());

        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("deletes Order/u1 without leaving a tombstone", "was restored",
                "sites resync", "A site restored from a backup");
        shippers.remove(s);
        s.close();
    }

    /** A small store's restore deletes its entities and its keys in one batch: that fault points to sites resync too. */
    @Test
    void aKeyDeletedAsARestoreDeletesItStopsTheShipperAndPointsARestoredSiteToResync() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "u1", value("paris", "u1"));
        paris.registry.commit(WriteBatch.builder().deleteValue(LAYOUT.type(TYPE), "u1").deleteValue(LAYOUT.versions(TYPE), "u1")
                .deleteKey(LAYOUT.versions(TYPE)).deleteKey(LAYOUT.type(TYPE)).build());

        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("deletes the key", "was restored", "sites resync", "A site restored from a backup");
        shippers.remove(s);
        s.close();
    }

    /** A value from before sites were configured, as a store without sites seals it, committed at {@code s} with version 1. */
    private void saveUnstamped(Site s, String id, String json) {
        saveUnstamped(s, id, json, 1);
    }

    /** A value as a writer without sites options stores it at {@code s}: no stamp, at {@code version}. */
    private void saveUnstamped(Site s, String id, String json, long version) {
        byte[] unstamped = SiteEnvelopesForTests.codec(LAYOUT.root().toString(), keys, null)
                .seal(TYPE, id, version, json.getBytes(StandardCharsets.UTF_8), null).envelope();
        s.registry.commit(WriteBatch.builder().setValue(LAYOUT.type(TYPE), id, RegistryValue.binary(unstamped))
                .setValue(LAYOUT.versions(TYPE), id, RegistryValue.qword(version)).build());
    }

    /**
     * A node without sites options that writes a site's root writes without a stamp. Over a value
     * the origin itself wrote stamped and shipped, nothing would ever bring the target the new one
     * (the target does not ship the origin's own write back): the shipper stops rather than pass it
     * over and leave the sites different.
     */
    @Test
    void aWriteWithoutAStampOverTheOriginsOwnStampedValueStopsTheShipper() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "x", value("paris", "x"));
        SiteShipper first = shipper(paris, tokyo, tokyo.registry);
        shippers.add(first);
        await().atMost(Duration.ofSeconds(20)).until(() -> content(tokyo).containsKey("x"));
        shippers.remove(first);
        first.close();

        saveUnstamped(paris, "x", value("paris", "x without sites"), 2);
        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("writes Order/x without a stamp over the value site paris itself wrote",
                "node without the sites options", "sites resync --from paris --to tokyo").hasMessageNotContaining("seed site");
        assertThat(content(tokyo).get("x")).isEqualTo(value("paris", "x"));
        shippers.remove(s);
        s.close();
    }

    @Test
    void aValueFromBeforeSitesWereConfiguredThatTheTargetHoldsAlreadyIsPassedOverAndShippingGoesOn() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        // tokyo seeded from a copy of paris: both hold the same value from before sites were configured
        saveUnstamped(paris, "old", value("paris", "old"));
        saveUnstamped(tokyo, "old", value("paris", "old"));
        saveUnstamped(tokyo, "gone", value("tokyo", "gone"));
        delete(tokyo, "gone"); // a stamped delete wins over time zero
        // a re-encryption at paris re-seals both unstamped, at their versions
        saveUnstamped(paris, "old", value("paris", "old"));
        saveUnstamped(paris, "gone", value("tokyo", "gone"));
        save(paris, "new", value("paris", "new"));

        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> content(tokyo).containsKey("new"));
        assertThat(s.failure()).isNull();
        assertThat(content(tokyo)).isEqualTo(Map.of("old", value("paris", "old"), "gone", "(deleted)", "new", value("paris", "new")));
        assertThat(conflicts).isEmpty();
    }

    @Test
    void aValueFromBeforeSitesWereConfiguredThatDiffersFromTheTargetsStillStopsTheShipper() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        saveUnstamped(paris, "old", value("paris", "old"));
        saveUnstamped(tokyo, "old", value("tokyo", "old"));

        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).hasMessageContainingAll("writes Order/old without a stamp", "if site tokyo was never seeded, seed it from site paris");
        assertThat(content(tokyo).get("old")).isEqualTo(value("tokyo", "old"));
        shippers.remove(s);
        s.close();
    }

    /**
     * Sites seeded from one copy hold the same value from before sites were configured: one write,
     * at time zero. An update made on top of it overwrites a state the writer had seen, so it is no
     * conflict where it arrives; two updates of it made without seeing each other are.
     */
    @Test
    void theFirstUpdateOfAValueFromBeforeSitesWereConfiguredIsNoConflictAtASiteSeededWithIt() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        for (String id : List.of("x", "y", "z")) {
            saveUnstamped(paris, id, value("seed", id));
            saveUnstamped(tokyo, id, value("seed", id));
        }
        save(paris, "x", value("paris", "x"));
        save(tokyo, "y", value("tokyo", "y"));
        save(paris, "z", value("paris", "z"));
        tokyo.wall.addAndGet(1);
        save(tokyo, "z", value("tokyo", "z"));

        shippers.add(shipper(paris, tokyo, tokyo.registry));
        shippers.add(shipper(tokyo, paris, paris.registry));
        Map<String, String> expected = Map.of("x", value("paris", "x"), "y", value("tokyo", "y"), "z", value("tokyo", "z"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(content(paris)).isEqualTo(expected);
            assertThat(content(tokyo)).isEqualTo(expected);
            assertThat(conflicts).hasSize(2);
        });
        assertThat(conflicts).allSatisfy(c -> {
            assertThat(c.id()).isEqualTo("z");
            assertThat(new String(c.loser().value(), StandardCharsets.UTF_8)).isEqualTo(value("paris", "z"));
        }).extracting(SiteTranslator.Conflict::targetSite).containsExactlyInAnyOrder("paris", "tokyo");
        assertThat(states(paris.registry, paris.states)).isEqualTo(states(tokyo.registry, tokyo.states));
    }

    /**
     * paris writes L and tokyo W concurrently, W later: W wins at paris. tokyo then writes W2 over W
     * before L reaches it. W2 reaching paris overwrites W, which tokyo had seen: no conflict there;
     * L reaching tokyo loses to W2. One conflict per site, L the loser at both, the same state at both.
     */
    @Test
    void aLaterWriteOfTheWinnersSiteIsNoConflictWithTheWinnerItOverwrote() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "x", value("paris", "L"));
        tokyo.wall.addAndGet(10);
        save(tokyo, "x", value("tokyo", "W"));
        SiteShipper first = shipper(tokyo, paris, paris.registry);
        await().atMost(Duration.ofSeconds(20)).until(() -> value("tokyo", "W").equals(content(paris).get("x")));
        first.close();
        assertThat(first.failure()).isNull();
        tokyo.wall.addAndGet(10);
        save(tokyo, "x", value("tokyo", "W2"));

        shippers.add(shipper(tokyo, paris, paris.registry));
        await().atMost(Duration.ofSeconds(20)).until(() -> value("tokyo", "W2").equals(content(paris).get("x")));
        shippers.add(shipper(paris, tokyo, tokyo.registry));
        await().atMost(Duration.ofSeconds(20)).until(() -> conflicts.size() >= 2);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(states(tokyo.registry, tokyo.states)).isEqualTo(states(paris.registry, paris.states)));
        assertThat(conflicts).extracting(c -> c.targetSite() + ": " + new String(c.loser().value(), StandardCharsets.UTF_8))
                .containsExactlyInAnyOrder("paris: " + value("paris", "L"), "tokyo: " + value("paris", "L"));
        assertThat(content(tokyo)).containsEntry("x", value("tokyo", "W2"));
    }

    @Test
    void aTargetThatChangesUnderATranslationIsReadAgain() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        paris.wall.set(5_000_000);
        save(paris, "r1", value("paris", "r1"));
        long last = paris.registry.currentSequence();
        // the first time the translator reads tokyo, a local write at tokyo lands right after the read
        AtomicBoolean raced = new AtomicBoolean();
        ClusterRegistry racing = SiteShipperTest.afterFirst(tokyo.registry, "read", () -> {
            raced.set(true);
            tokyo.wall.set(5_000_100);
            save(tokyo, "r1", value("tokyo", "r1"));
        });
        SiteShipper s = shipper(paris, tokyo, racing);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == last);
        assertThat(raced).isTrue();
        assertThat(content(tokyo)).containsEntry("r1", value("tokyo", "r1"));
        assertThat(losers("r1", "tokyo")).containsExactly(value("paris", "r1"));
    }

    @Test
    void aTargetStampTooFarAheadHoldsTheBatchWithAHealthFaultUntilTheClocksAgree() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        tokyo.wall.set(paris.wall.get() + Duration.ofHours(1).toMillis());
        save(tokyo, "s1", value("tokyo", "s1"));
        save(paris, "s1", value("paris", "s1"));
        long last = paris.registry.currentSequence();
        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        await().atMost(Duration.ofSeconds(20)).until(() -> faults(paris).contains("site-clock-skew-tokyo"));
        assertThat(content(tokyo)).containsEntry("s1", value("tokyo", "s1"));
        assertThat(s.checkpoint()).isZero();

        paris.wall.set(tokyo.wall.get());
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == last);
        await().atMost(Duration.ofSeconds(10)).until(() -> !faults(paris).contains("site-clock-skew-tokyo"));
        assertThat(content(tokyo)).as("tokyo's write is the later one").containsEntry("s1", value("tokyo", "s1"));
    }

    /**
     * The origin's own stamps at the target are its own writes, not another site's clock running ahead:
     * after its wall clock stepped back, its next writes are still stamped after them (LocalWrites) and
     * ship without a clock-skew fault.
     */
    @Test
    void theOriginsOwnStampsAtTheTargetAreNoSkewAfterItsClockWentBack() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        SiteShipper s = shipper(paris, tokyo, tokyo.registry);
        shippers.add(s);
        save(paris, "b1", value("paris", "b1"));
        long first = paris.registry.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == first);

        paris.wall.set(paris.wall.get() - Duration.ofMinutes(10).toMillis());
        save(paris, "b1", value("paris", "b1 again"));
        long second = paris.registry.currentSequence();
        await().atMost(Duration.ofSeconds(20)).until(() -> s.checkpoint() == second || faults(paris).contains("site-clock-skew-tokyo"));
        assertThat(faults(paris)).doesNotContain("site-clock-skew-tokyo");
        assertThat(content(tokyo)).containsEntry("b1", value("paris", "b1 again"));
    }

    private static Set<String> faults(Site s) {
        return s.registry.healthFaults().stream().map(HealthFault::id).collect(Collectors.toSet());
    }

    @Test
    void aValueCopiedFromAnotherSitesRegistryIsRefused() {
        Site paris = site("paris");
        Site tokyo = site("tokyo");
        save(paris, "x1", value("paris", "x1"));
        save(tokyo, "x1", value("tokyo", "x1"));
        // an attacker with write access to tokyo's registry copies paris's envelope and version record over tokyo's
        byte[] fromParis = paris.registry.getValue(LAYOUT.type(TYPE), "x1").orElseThrow().value().asBinary();
        long version = paris.registry.getValue(LAYOUT.versions(TYPE), "x1").orElseThrow().value().asQword();
        tokyo.registry.commit(WriteBatch.builder().setValue(LAYOUT.type(TYPE), "x1", RegistryValue.binary(fromParis))
                .setValue(LAYOUT.versions(TYPE), "x1", RegistryValue.qword(version)).build());
        assertThatThrownBy(() -> content(tokyo)).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining("bound to site 'paris' and this is site 'tokyo'");

        // shipping from tokyo stops at that value, loudly: never skipped
        SiteShipper s = shipper(tokyo, paris, paris.registry);
        await().atMost(Duration.ofSeconds(20)).until(() -> s.failure() != null);
        assertThat(s.failure()).isInstanceOf(DataIntegrityException.class).hasMessageContaining("bound to site 'paris'");
        // the shipper records why it stopped, then raises the fault
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(tokyo.registry.healthFaults()).filteredOn(f -> f.id().equals("site-stopped-paris")).singleElement()
                        .satisfies(f -> assertThat(f.description()).contains("stopped at the batch after", "bound to site 'paris'")));
        s.close();
    }
}
