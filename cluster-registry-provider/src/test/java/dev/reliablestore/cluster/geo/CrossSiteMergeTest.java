package dev.reliablestore.cluster.geo;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cross-site merge as a property: for random concurrent histories of three sites with skewed
 * clocks — writes, deletes and multi-entity batches on a few ids, delivered between sites in random
 * order, partly duplicated — every site ends in the same state, and that state is the greatest-stamp
 * write of each entity with the join of all vectors, whatever the delivery order.
 */
class CrossSiteMergeTest {

    private static final List<String> SITES = List.of("eu-west", "us-east", "us-west");
    private static final Duration MAX_SKEW = Duration.ofSeconds(5);

    /** A site of the simulation: a clock running off the shared simulated time by its own offset, and its states. */
    private static final class Site {
        final String name;
        final HybridClock clock;
        final Map<String, SiteState> states = new TreeMap<>();
        final List<CrossSiteMerge.Outcome> conflicts = new ArrayList<>();

        Site(String name, AtomicLong now, long offsetMillis) {
            this.name = name;
            this.clock = new HybridClock(() -> now.get() + offsetMillis, MAX_SKEW);
        }

        /** One local batch: every entity gets the batch's one stamp. */
        Map<String, SiteState> write(Map<String, byte[]> values) {
            for (String id : values.keySet()) {
                SiteState current = states.get(id);
                if (current != null) {
                    clock.advanceTo(current.hlc());
                }
            }
            long hlc = clock.tick();
            Map<String, SiteState> written = new TreeMap<>();
            values.forEach((id, value) -> {
                SiteState s = SiteState.after(states.get(id), value, name, hlc);
                states.put(id, s);
                written.put(id, s);
            });
            return written;
        }

        void receive(String id, SiteState incoming) {
            clock.observe(incoming.hlc(), incoming.origin());
            CrossSiteMerge.Outcome o = CrossSiteMerge.merge(states.get(id), incoming);
            if (o.conflict()) {
                conflicts.add(o);
            }
            states.put(id, o.state());
        }
    }

    private record Delivery(String target, String id, SiteState state) {
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void randomConcurrentHistoriesConvergeToTheGreatestStampWhateverTheDeliveryOrder() {
        long conflictsSeen = 0;
        long tombstonesWon = 0;
        for (int seed = 0; seed < 300; seed++) {
            Random random = new Random(seed);
            AtomicLong now = new AtomicLong(1_800_000_000_000L);
            Map<String, Site> sites = new HashMap<>();
            for (String name : SITES) {
                sites.put(name, new Site(name, now, random.nextInt(4_000) - 2_000));
            }
            List<Delivery> pending = new ArrayList<>();
            Map<String, List<SiteState>> allWrites = new TreeMap<>();
            int steps = 40 + random.nextInt(80);
            for (int step = 0; step < steps; step++) {
                now.addAndGet(random.nextInt(3)); // often the same millisecond: logical counters and ties by site name
                if (!pending.isEmpty() && random.nextInt(3) == 0) {
                    Delivery d = pending.remove(random.nextInt(pending.size()));
                    sites.get(d.target).receive(d.id, d.state);
                    if (random.nextInt(5) == 0) {
                        pending.add(d); // delivered again later: a replay after a shipper restart
                    }
                    continue;
                }
                Site site = sites.get(SITES.get(random.nextInt(SITES.size())));
                Map<String, byte[]> batch = new TreeMap<>();
                int size = random.nextInt(4) == 0 ? 2 + random.nextInt(2) : 1;
                for (int i = 0; i < size; i++) {
                    batch.put("id-" + random.nextInt(5), random.nextInt(5) == 0 ? null : bytes(site.name + "#" + step));
                }
                site.write(batch).forEach((id, state) -> {
                    allWrites.computeIfAbsent(id, k -> new ArrayList<>()).add(state);
                    for (String target : SITES) {
                        if (!target.equals(site.name)) {
                            pending.add(new Delivery(target, id, state));
                        }
                    }
                });
            }
            Collections.shuffle(pending, random);
            for (Delivery d : pending) {
                sites.get(d.target).receive(d.id, d.state);
            }

            Map<String, SiteState> first = sites.get(SITES.get(0)).states;
            for (String name : SITES) {
                assertThat(sites.get(name).states).as("seed %d: site %s", seed, name).isEqualTo(first);
            }
            for (Map.Entry<String, List<SiteState>> e : allWrites.entrySet()) {
                SiteState greatest = e.getValue().stream().max(SiteState::compareStamp).orElseThrow();
                VersionVector all = e.getValue().stream().map(SiteState::vector).reduce(VersionVector.EMPTY, VersionVector::join);
                SiteState end = first.get(e.getKey());
                assertThat(end.hlc()).as("seed %d, %s: stamp", seed, e.getKey()).isEqualTo(greatest.hlc());
                assertThat(end.origin()).isEqualTo(greatest.origin());
                assertThat(end.value()).isEqualTo(greatest.value());
                assertThat(end.vector()).isEqualTo(all);
                tombstonesWon += end.deleted() ? 1 : 0;

                // the same writes folded in other orders, with duplicates: the same state
                for (int order = 0; order < 5; order++) {
                    List<SiteState> shuffled = new ArrayList<>(e.getValue());
                    shuffled.add(shuffled.get(random.nextInt(shuffled.size())));
                    Collections.shuffle(shuffled, random);
                    SiteState folded = null;
                    for (SiteState w : shuffled) {
                        folded = CrossSiteMerge.merge(folded, w).state();
                    }
                    assertThat(folded).as("seed %d, %s, order %d", seed, e.getKey(), order).isEqualTo(end);
                }
            }
            conflictsSeen += sites.values().stream().mapToLong(s -> s.conflicts.size()).sum();
        }
        // the generator really produced what the property is about
        assertThat(conflictsSeen).as("conflicts detected over all histories").isGreaterThan(100);
        assertThat(tombstonesWon).as("entities that ended deleted").isGreaterThan(10);
    }

    @Test
    void betweenTwoBatchesSharingEntitiesTheSameBatchWinsOnAllOfThem() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        Site eu = new Site("eu-west", now, 0);
        Site us = new Site("us-east", now, 0);
        Map<String, byte[]> euBatch = new TreeMap<>(Map.of("a", bytes("eu-a"), "b", bytes("eu-b"), "c", bytes("eu-c")));
        Map<String, byte[]> usBatch = new TreeMap<>(Map.of("a", bytes("us-a"), "b", bytes("us-b")));
        Map<String, SiteState> fromEu = eu.write(euBatch);
        Map<String, SiteState> fromUs = us.write(usBatch); // the same millisecond: the tie goes to the greater site name
        fromUs.forEach(eu::receive);
        fromEu.forEach(us::receive);
        assertThat(eu.states).isEqualTo(us.states);
        assertThat(new String(eu.states.get("a").value(), StandardCharsets.UTF_8)).isEqualTo("us-a");
        assertThat(new String(eu.states.get("b").value(), StandardCharsets.UTF_8)).isEqualTo("us-b");
        assertThat(new String(eu.states.get("c").value(), StandardCharsets.UTF_8)).as("not shared: keeps its batch's value").isEqualTo("eu-c");
        assertThat(eu.conflicts).hasSize(2).allSatisfy(o -> assertThat(o.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_INCOMING_WON));
        assertThat(us.conflicts).hasSize(2).allSatisfy(o -> {
            assertThat(o.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_LOCAL_WON);
            assertThat(new String(o.loser().value(), StandardCharsets.UTF_8)).startsWith("eu-");
        });
    }

    @Test
    void anOverwriteThatSawTheOtherWriteIsNoConflictAndAReplayChangesNothing() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        Site eu = new Site("eu-west", now, 1_000); // eu's clock runs a second ahead
        Site us = new Site("us-east", now, 0);
        SiteState first = eu.write(Map.of("a", bytes("1"))).get("a");
        us.receive("a", first);
        SiteState second = us.write(Map.of("a", bytes("2"))).get("a");
        assertThat(second.compareStamp(first)).as("a write after observing another sorts after it, despite the slower clock").isPositive();
        CrossSiteMerge.Outcome atEu = CrossSiteMerge.merge(eu.states.get("a"), second);
        assertThat(atEu.kind()).isEqualTo(CrossSiteMerge.Kind.APPLIED);
        assertThat(atEu.state()).isEqualTo(second);
        CrossSiteMerge.Outcome replay = CrossSiteMerge.merge(atEu.state(), first);
        assertThat(replay.kind()).isEqualTo(CrossSiteMerge.Kind.ALREADY_INCLUDED);
        assertThat(replay.state()).isEqualTo(second);
        assertThat(CrossSiteMerge.merge(atEu.state(), second).kind()).isEqualTo(CrossSiteMerge.Kind.ALREADY_INCLUDED);
    }

    @Test
    void aDeleteAndAConcurrentUpdateResolveTheSameWayAtBothSites() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        Site eu = new Site("eu-west", now, 0);
        Site us = new Site("us-east", now, 0);
        SiteState created = eu.write(Map.of("a", bytes("v1"))).get("a");
        us.receive("a", created);
        Map<String, byte[]> delete = new HashMap<>();
        delete.put("a", null);
        SiteState deleted = eu.write(delete).get("a");
        now.addAndGet(1);
        SiteState updated = us.write(Map.of("a", bytes("v2"))).get("a");
        eu.receive("a", updated);
        us.receive("a", deleted);
        assertThat(eu.states).isEqualTo(us.states);
        assertThat(eu.states.get("a").value()).as("the later update beats the earlier concurrent delete").isEqualTo(bytes("v2"));
        assertThat(eu.conflicts).singleElement().satisfies(o -> assertThat(o.loser().deleted()).isTrue());
    }

    /**
     * Sites collect tombstones at their own times: the site that deleted may re-create the entity while
     * another still holds the tombstone. The re-created entity must be newer there, and a concurrent
     * update of it a conflict at both sites — not an old write the other "already includes", which
     * would overwrite the update with no event, record or merge.
     */
    @Test
    void anEntityReCreatedAfterItsTombstoneWasCollectedStillConflictsWithConcurrentUpdates() {
        AtomicLong now = new AtomicLong(1_800_000_000_000L);
        Site eu = new Site("eu-west", now, 0);
        Site us = new Site("us-east", now, 0);
        for (int i = 0; i < 3; i++) {
            us.receive("a", eu.write(Map.of("a", bytes("v" + i))).get("a"));
        }
        Map<String, byte[]> delete = new HashMap<>();
        delete.put("a", null);
        us.receive("a", eu.write(delete).get("a"));
        eu.states.remove("a"); // eu collected the tombstone; us has not yet
        now.addAndGet(60_000);
        SiteState recreated = eu.write(Map.of("a", bytes("again"))).get("a");
        assertThat(CrossSiteMerge.merge(us.states.get("a"), recreated).kind()).isEqualTo(CrossSiteMerge.Kind.APPLIED);
        us.receive("a", recreated);

        now.addAndGet(1);
        SiteState atUs = us.write(Map.of("a", bytes("us"))).get("a");
        now.addAndGet(1);
        SiteState atEu = eu.write(Map.of("a", bytes("eu"))).get("a");
        us.receive("a", atEu);
        eu.receive("a", atUs);
        assertThat(eu.states).isEqualTo(us.states);
        assertThat(eu.states.get("a").value()).isEqualTo(bytes("eu"));
        assertThat(us.conflicts).singleElement().satisfies(o -> {
            assertThat(o.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_INCOMING_WON);
            assertThat(o.loser().value()).isEqualTo(bytes("us"));
        });
        assertThat(eu.conflicts).singleElement().satisfies(o -> assertThat(o.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_LOCAL_WON));
    }

    /** Only a later write sets a tombstone past collection aside; an older one meets it as ever (it loses, or was included). */
    @Test
    void aTombstonePastCollectionIsSetAsideOnlyForALaterWrite() {
        long wall = 1_800_000_000_000L;
        long window = Duration.ofMinutes(10).toMillis();
        long skew = MAX_SKEW.toMillis();
        long collectible = wall - window - skew - 1;
        SiteState tombstone = new SiteState(null, HybridClock.pack(collectible, 0), "eu-west", VersionVector.EMPTY.advance("eu-west", 1));
        SiteState later = new SiteState(bytes("v"), HybridClock.pack(wall, 0), "us-east", VersionVector.EMPTY.advance("us-east", 2));
        SiteState older = new SiteState(bytes("v"), HybridClock.pack(collectible - 1, 0), "us-east", VersionVector.EMPTY.advance("us-east", 3));
        assertThat(SiteTranslator.pastCollection(tombstone, later, wall, window, skew)).isNull();
        assertThat(SiteTranslator.pastCollection(tombstone, older, wall, window, skew)).isSameAs(tombstone);
        assertThat(SiteTranslator.pastCollection(tombstone, later, wall, Long.MAX_VALUE, skew)).as("kept for good").isSameAs(tombstone);
        assertThat(SiteTranslator.pastCollection(tombstone, later, collectible + window + skew, window, skew)).as("not yet past")
                .isSameAs(tombstone);
        SiteState value = new SiteState(bytes("old"), HybridClock.pack(collectible, 0), "eu-west", VersionVector.EMPTY.advance("eu-west", 1));
        assertThat(SiteTranslator.pastCollection(value, later, wall, window, skew)).as("a value, not a tombstone").isSameAs(value);
    }

    @Test
    void aCounterGrowsByOneWhereItIsAlreadyPastTheStamp() {
        VersionVector old = VersionVector.EMPTY.increment("eu").increment("eu"); // a value written before sites were configured: stamp 0
        assertThat(old.advance("eu", 0).get("eu")).isEqualTo(3);
        long stamp = HybridClock.pack(1_800_000_000_000L, 5);
        VersionVector stamped = old.advance("eu", stamp);
        assertThat(stamped.get("eu")).isEqualTo(stamp);
        assertThat(stamped.advance("eu", stamp).get("eu")).isEqualTo(stamp + 1);
        assertThat(VersionVector.decode(ByteBuffer.wrap(stamped.encode()))).isEqualTo(stamped);
    }

    @Test
    void theClockNeverGoesBackAndRefusesATimestampTooFarAhead() {
        AtomicLong wall = new AtomicLong(1_800_000_000_000L);
        HybridClock clock = new HybridClock(wall::get, MAX_SKEW);
        long a = clock.tick();
        wall.addAndGet(-60_000); // the wall clock stepped back a minute
        long b = clock.tick();
        assertThat(b).isGreaterThan(a);
        assertThat(HybridClock.physical(b)).isEqualTo(HybridClock.physical(a));
        assertThat(HybridClock.logical(b)).isEqualTo(1);

        long aheadOk = HybridClock.pack(wall.get() + 5_000, 7);
        clock.observe(aheadOk, "us-east");
        assertThat(clock.tick()).isGreaterThan(aheadOk);
        long tooFar = HybridClock.pack(wall.get() + 5_001, 0);
        long before = clock.last();
        assertThatThrownBy(() -> clock.observe(tooFar, "us-west"))
                .isInstanceOfSatisfying(ClockSkewException.class, e -> {
                    assertThat(e.site()).isEqualTo("us-west");
                    assertThat(e.aheadMillis()).isEqualTo(5_001);
                    assertThat(e.maxSkewMillis()).isEqualTo(5_000);
                })
                .hasMessageContaining("us-west").hasMessageContaining("5001 ms ahead").hasMessageContaining("maximum skew is 5000 ms");
        assertThat(clock.last()).as("a refused timestamp is not adopted").isEqualTo(before);
    }

    @Test
    void aFullLogicalCounterCarriesIntoTheNextMillisecond() {
        HybridClock clock = new HybridClock(() -> 1_000L, Duration.ZERO);
        clock.advanceTo(HybridClock.pack(1_000, (int) HybridClock.LOGICAL_MASK));
        long next = clock.tick();
        assertThat(HybridClock.physical(next)).isEqualTo(1_001);
        assertThat(HybridClock.logical(next)).isZero();
        assertThatThrownBy(() -> HybridClock.pack(-1, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> HybridClock.pack(0, 1 << 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65536");
    }

    @Test
    void versionVectorsCompareJoinAndRoundTrip() {
        VersionVector a = VersionVector.EMPTY.increment("eu").increment("eu").increment("us");
        VersionVector b = VersionVector.EMPTY.increment("eu").increment("us").increment("us");
        assertThat(a.compare(b)).isEqualTo(VersionVector.Order.CONCURRENT);
        VersionVector j = a.join(b);
        assertThat(j.asMap()).containsExactly(Map.entry("eu", 2L), Map.entry("us", 2L));
        assertThat(a.compare(j)).isEqualTo(VersionVector.Order.BEFORE);
        assertThat(j.compare(b)).isEqualTo(VersionVector.Order.AFTER);
        assertThat(j.compare(b.join(a))).isEqualTo(VersionVector.Order.EQUAL);
        VersionVector big = j;
        for (int i = 0; i < 300; i++) {
            big = big.increment("site-é");
        }
        assertThat(VersionVector.decode(ByteBuffer.wrap(big.encode()))).isEqualTo(big);
        assertThat(VersionVector.decode(ByteBuffer.wrap(VersionVector.EMPTY.encode()))).isEqualTo(VersionVector.EMPTY);

        byte[] bytes = big.encode();
        for (int cut = 0; cut < bytes.length; cut++) {
            byte[] truncated = java.util.Arrays.copyOf(bytes, cut);
            assertThatThrownBy(() -> VersionVector.decode(ByteBuffer.wrap(truncated))).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] unordered = {2, 1, 'b', 1, 1, 'a', 1};
        assertThatThrownBy(() -> VersionVector.decode(ByteBuffer.wrap(unordered))).hasMessageContaining("out of order");
        byte[] zero = {1, 1, 'a', 0};
        assertThatThrownBy(() -> VersionVector.decode(ByteBuffer.wrap(zero))).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> VersionVector.EMPTY.increment("")).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * S writes L and A writes W concurrently (W later): W wins at S, whose vector then counts L. A
     * writes W2 over W before L reaches A: at S, W2 overwrites W, which its writer had seen — no
     * conflict, W is not a loser. L reaching A later conflicts with W2 and loses, as it lost to W at S.
     */
    @Test
    void aLaterWriteOnTopOfTheWinnerIsNoConflictWithItWhereTheLoserIsAlreadyCounted() {
        long t = 1_800_000_000_000L;
        SiteState v0 = SiteState.after(null, bytes("v0"), "a", HybridClock.pack(t, 0));
        SiteState l = SiteState.after(v0, bytes("L"), "s", HybridClock.pack(t + 10, 0));
        SiteState w = SiteState.after(v0, bytes("W"), "a", HybridClock.pack(t + 20, 0));
        SiteState w2 = SiteState.after(w, bytes("W2"), "a", HybridClock.pack(t + 30, 0));

        CrossSiteMerge.Outcome atS = CrossSiteMerge.merge(l, w);
        assertThat(atS.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_INCOMING_WON);
        assertThat(atS.loser()).isEqualTo(l);
        CrossSiteMerge.Outcome w2AtS = CrossSiteMerge.merge(atS.state(), w2);
        assertThat(w2AtS.kind()).isEqualTo(CrossSiteMerge.Kind.APPLIED);
        assertThat(w2AtS.loser()).isNull();

        CrossSiteMerge.Outcome lAtA = CrossSiteMerge.merge(w2, l);
        assertThat(lAtA.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_LOCAL_WON);
        assertThat(lAtA.loser()).isEqualTo(l);
        // both sites end with the same state, whatever the order
        assertThat(lAtA.state()).isEqualTo(w2AtS.state());
        assertThat(CrossSiteMerge.merge(CrossSiteMerge.merge(v0, w2).state(), l).state()).isEqualTo(w2AtS.state());
    }

    @Test
    void aWriteThatDidNotSeeTheWinnerStillConflictsWithIt() {
        long t = 1_800_000_000_000L;
        SiteState v0 = SiteState.after(null, bytes("v0"), "a", HybridClock.pack(t, 0));
        SiteState l = SiteState.after(v0, bytes("L"), "s", HybridClock.pack(t + 10, 0));
        SiteState w = SiteState.after(v0, bytes("W"), "a", HybridClock.pack(t + 20, 0));
        SiteState x = SiteState.after(v0, bytes("X"), "b", HybridClock.pack(t + 30, 0));
        SiteState atS = CrossSiteMerge.merge(l, w).state();
        CrossSiteMerge.Outcome xAtS = CrossSiteMerge.merge(atS, x);
        assertThat(xAtS.kind()).isEqualTo(CrossSiteMerge.Kind.CONFLICT_INCOMING_WON);
        assertThat(xAtS.loser().value()).isEqualTo(bytes("W"));
    }

    /** L's vector was stored by an earlier build, which counted writes by one: a write that had seen L still overwrites it. */
    @Test
    void aWriteOnTopOfAStateWhoseVectorAnEarlierBuildCountedIsNoConflictWithIt() {
        long t = 1_800_000_000_000L;
        SiteState l = new SiteState(bytes("L"), HybridClock.pack(t, 0), "a", VersionVector.EMPTY.increment("a").increment("a").increment("a"));
        SiteState x = SiteState.after(null, bytes("X"), "c", HybridClock.pack(t - 5, 0));
        SiteState i = SiteState.after(l, bytes("I"), "d", HybridClock.pack(t + 10, 0));
        CrossSiteMerge.Outcome atB = CrossSiteMerge.merge(CrossSiteMerge.merge(l, x).state(), i);
        assertThat(atB.kind()).isEqualTo(CrossSiteMerge.Kind.APPLIED);
    }
}
