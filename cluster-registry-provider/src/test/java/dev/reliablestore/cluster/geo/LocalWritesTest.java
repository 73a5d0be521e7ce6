package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LAYOUT;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LOCKS;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.TYPE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A site's own writes ({@link LocalWrites}) on an embedded registry with encrypted, compressed
 * values: one stamp per batch after every state replaced, the clock guard on other sites' stamps,
 * tombstones, and conditions that catch a change between the read and the commit.
 */
class LocalWritesTest {

    private static final long WALL = 1_700_000_000_000L;

    @TempDir
    Path dir;
    private ClusterRegistry registry;
    private EntityStates paris;
    private final AtomicLong wall = new AtomicLong(WALL);
    private HybridClock clock;
    private LocalWrites writes;

    @BeforeEach
    void open() {
        registry = ClusterRegistries.open("embedded:" + dir.resolve("paris"));
        paris = new EntityStates(LAYOUT, LOCKS, SiteEnvelopesForTests.codec(LAYOUT.root().toString(), SiteEnvelopesForTests.ring(), "paris"), "paris");
        clock = new HybridClock(wall::get, Duration.ofSeconds(5));
        writes = new LocalWrites(paris, clock);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private static byte[] json(String s) {
        return ("{\"v\":\"" + s + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private LocalWrites.Plan plan(Map<String, byte[]> w) {
        LocalWrites.Reading reading = writes.reading(TYPE, w.keySet());
        return writes.plan(reading, w, registry.read(ReadBatch.of(reading.reads())));
    }

    private void commit(LocalWrites.Plan plan) {
        WriteBatch.Builder b = WriteBatch.builder();
        plan.commands().forEach(b::add);
        registry.commit(b.build());
    }

    private Map<String, SiteState> stored() {
        return SiteTranslatorTest.states(registry, paris);
    }

    /** Stores {@code state} at paris as a shipped write would (what was there replaced). */
    private void arrive(String id, SiteState state) {
        EntityStates.Current current = paris.current(TYPE, id, registry.read(ReadBatch.of(paris.reads(TYPE, id))), 0);
        List<BatchCommand> commands = new ArrayList<>();
        paris.write(commands, TYPE, id, state, current);
        WriteBatch.Builder b = WriteBatch.builder();
        commands.forEach(b::add);
        registry.commit(b.build());
    }

    private static SiteState byTokyo(byte[] value, long physicalMillis) {
        return new SiteState(value, HybridClock.pack(physicalMillis, 0), "tokyo", VersionVector.EMPTY.increment("tokyo"));
    }

    private static Map<String, byte[]> writesOf(Object... idAndJson) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < idAndJson.length; i += 2) {
            out.put((String) idAndJson[i], (byte[]) idAndJson[i + 1]);
        }
        return out;
    }

    @Test
    void aBatchIsStampedWithOneReadingAfterEveryStateItReplaces() {
        commit(plan(writesOf("a", json("a1"))));
        SiteState tokyo = byTokyo(json("b-tokyo"), WALL + 3_000); // ahead of paris's clock, within the skew
        arrive("b", tokyo);

        LocalWrites.Plan batch = plan(writesOf("a", json("a2"), "b", json("b2"), "c", json("c1")));
        commit(batch);

        Map<String, SiteState> written = batch.written();
        assertThat(written.values()).extracting(SiteState::hlc).containsOnly(written.get("a").hlc());
        assertThat(written.get("a").hlc()).isGreaterThan(tokyo.hlc());
        assertThat(written.values()).extracting(SiteState::origin).containsOnly("paris");
        // the replaced vector with paris's counter raised to this write's stamp
        long stamp = written.get("a").hlc();
        assertThat(written.get("a").vector()).isEqualTo(VersionVector.EMPTY.advance("paris", stamp));
        assertThat(written.get("b").vector()).isEqualTo(tokyo.vector().advance("paris", stamp));
        assertThat(written.get("c").vector()).isEqualTo(VersionVector.EMPTY.advance("paris", stamp));
        assertThat(stored()).isEqualTo(written);
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "a").orElseThrow().value().asQword()).isEqualTo(2);
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "b").orElseThrow().value().asQword()).isEqualTo(2);
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "c").orElseThrow().value().asQword()).isEqualTo(1);
    }

    @Test
    void anotherSitesStampTooFarAheadRefusesThePlanAndLeavesTheClockAlone() {
        commit(plan(writesOf("a", json("a1"))));
        long before = clock.last();
        SiteState skewed = byTokyo(json("b-tokyo"), WALL + 6_000); // the maximum skew is 5 s
        arrive("b", skewed);

        assertThatThrownBy(() -> plan(writesOf("a", json("a2"), "b", json("b2"))))
                .isInstanceOf(ClockSkewException.class)
                .hasMessageContaining("site tokyo").hasMessageContaining("6000 ms ahead").hasMessageContaining("5000 ms");
        assertThat(clock.last()).isEqualTo(before);
        assertThat(stored().get("b")).isEqualTo(skewed);

        wall.addAndGet(2_000); // the clocks agree again
        LocalWrites.Plan plan = plan(writesOf("a", json("a2"), "b", json("b2")));
        commit(plan);
        assertThat(plan.written().get("b").hlc()).isGreaterThan(skewed.hlc());
        assertThat(stored()).isEqualTo(plan.written());
    }

    @Test
    void thisSitesOwnStampsAheadOfItsWallAreTakenAsTheyAre() {
        wall.set(WALL + 60_000);
        commit(plan(writesOf("a", json("a1"))));
        SiteState ahead = stored().get("a");
        // the site restarts with its wall a minute behind the stamps it wrote
        wall.set(WALL);
        LocalWrites restarted = new LocalWrites(paris, new HybridClock(wall::get, Duration.ofSeconds(5)));
        Map<String, byte[]> w = writesOf("a", json("a2"));
        LocalWrites.Reading reading = restarted.reading(TYPE, w.keySet());
        LocalWrites.Plan plan = restarted.plan(reading, w, registry.read(ReadBatch.of(reading.reads())));
        commit(plan);
        assertThat(plan.written().get("a").hlc()).isGreaterThan(ahead.hlc());
    }

    @Test
    void aDeleteLeavesATombstoneThatASaveReplaces() {
        commit(plan(writesOf("x", json("x1"))));
        LocalWrites.Plan delete = plan(writesOf("x", null));
        commit(delete);
        assertThat(delete.written().get("x").deleted()).isTrue();
        assertThat(stored().get("x")).isEqualTo(delete.written().get("x"));
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "x")).isEmpty();
        assertThat(registry.getValue(LAYOUT.type(TYPE), "x")).isEmpty();

        assertThat(plan(writesOf("x", null)).isEmpty()).as("a delete of a deleted entity writes nothing").isTrue();
        assertThat(plan(writesOf("never", null)).isEmpty()).as("nor does a delete of one that never existed").isTrue();

        LocalWrites.Plan again = plan(writesOf("x", json("x2")));
        commit(again);
        assertThat(registry.getValue(LAYOUT.tombstones(TYPE), "x")).isEmpty();
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "x").orElseThrow().value().asQword()).isEqualTo(1);
        assertThat(again.written().get("x").vector()).isEqualTo(VersionVector.EMPTY.advance("paris", again.written().get("x").hlc()));
        assertThat(again.written().get("x").vector().compare(delete.written().get("x").vector())).isEqualTo(VersionVector.Order.AFTER);
        assertThat(again.written().get("x").hlc()).isGreaterThan(delete.written().get("x").hlc());
    }

    @Test
    void aDeleteThatWritesNothingTakesNoPartInTheStampOrTheSkewCheck() {
        arrive("gone", new SiteState(null, HybridClock.pack(WALL + 60_000, 0), "tokyo", VersionVector.EMPTY.increment("tokyo")));
        long before = clock.last();
        LocalWrites.Plan plan = plan(writesOf("gone", null, "a", json("a1")));
        assertThat(plan.written()).containsOnlyKeys("a");
        assertThat(plan.written().get("a").hlc()).as("stamped at this site's clock, not after the skewed tombstone")
                .isLessThan(HybridClock.pack(WALL + 1_000, 0));
        assertThat(plan(writesOf("gone", null)).isEmpty()).isTrue();
        assertThat(clock.last()).isGreaterThan(before).isLessThan(HybridClock.pack(WALL + 1_000, 0));
    }

    @Test
    void aPlanRefusesAnswersThatAreNotItsReadingsOwn() {
        Map<String, byte[]> ab = writesOf("a", json("a1"), "b", json("b1"));
        LocalWrites.Reading reading = writes.reading(TYPE, ab.keySet());
        assertThatThrownBy(() -> writes.plan(reading, writesOf("a", json("a1"), "c", json("c1")),
                registry.read(ReadBatch.of(reading.reads())))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the writes name").hasMessageContaining("[a, b]");
        LocalWrites.Reading onlyA = writes.reading(TYPE, List.of("a"));
        assertThatThrownBy(() -> writes.plan(reading, ab, registry.read(ReadBatch.of(onlyA.reads()))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 4 reads, the reading made 8");
        assertThatThrownBy(() -> writes.reading(TYPE, List.of("a", "a"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("named twice");
    }

    @Test
    void aPlanWhoseStatesChangedBeforeItsCommitFailsAndChangesNothing() {
        commit(plan(writesOf("a", json("a1"))));
        LocalWrites.Plan stale = plan(writesOf("a", json("a2"), "b", json("b1")));
        SiteState shipped = byTokyo(json("a-tokyo"), WALL + 1_000);
        arrive("a", shipped);
        WriteBatch.Builder b = WriteBatch.builder();
        stale.commands().forEach(b::add);
        assertThatThrownBy(() -> registry.commit(b.build())).isInstanceOf(ConditionFailedException.class);
        assertThat(stored()).containsOnlyKeys("a").containsEntry("a", shipped);
    }
}
