package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LAYOUT;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LOCKS;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.TYPE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tombstones are removed once the conflict-resolution window (and the allowed clock skew) has
 * passed over their stamps, not before; entities that live are never touched; a tombstone written
 * again meanwhile is kept.
 */
class TombstoneCollectorTest {

    private static final long WALL = 1_700_000_000_000L;
    private static final Duration WINDOW = Duration.ofMinutes(10);
    private static final Duration SKEW = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private ClusterRegistry registry;
    private EntityStates paris;
    private final AtomicLong wall = new AtomicLong(WALL);
    private LocalWrites writes;
    private TombstoneCollector collector;

    @BeforeEach
    void open() {
        registry = ClusterRegistries.open("embedded:" + dir.resolve("paris"));
        SiteEnvelopes envelopes = SiteEnvelopesForTests.codec(LAYOUT.root().toString(), SiteEnvelopesForTests.ring(), "paris");
        paris = new EntityStates(LAYOUT, LOCKS, envelopes, "paris");
        writes = new LocalWrites(paris, new HybridClock(wall::get, SKEW));
        // one collector for every pass, as a site keeps it
        collector = new TombstoneCollector(new SiteReplication.Site("paris", registry, LAYOUT, LOCKS, envelopes), WINDOW, SKEW, wall::get);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private void write(String id, String json) {
        Map<String, byte[]> w = new HashMap<>();
        w.put(id, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
        LocalWrites.Reading reading = writes.reading(TYPE, w.keySet());
        LocalWrites.Plan plan = writes.plan(reading, w, registry.read(ReadBatch.of(reading.reads())));
        WriteBatch.Builder b = WriteBatch.builder();
        plan.commands().forEach(b::add);
        registry.commit(b.build());
    }

    private int collect() {
        return collector.collect();
    }

    private boolean tombstone(String id) {
        return registry.getValue(LAYOUT.tombstones(TYPE), id).isPresent();
    }

    @Test
    void aTombstoneGoesOnceTheWindowAndTheSkewHavePassedOverIt() {
        write("old", "{\"v\":1}");
        write("old", null);
        write("kept", "{\"v\":1}");
        wall.addAndGet(Duration.ofMinutes(5).toMillis());
        write("young", "{\"v\":1}");
        write("young", null);

        assertThat(collect()).isZero();
        wall.addAndGet(WINDOW.minus(Duration.ofMinutes(5)).plus(SKEW).toMillis()); // "old" is exactly window + skew old
        assertThat(collect()).isZero();
        wall.incrementAndGet();
        assertThat(collect()).isEqualTo(1);
        assertThat(tombstone("old")).isFalse();
        assertThat(tombstone("young")).isTrue();
        assertThat(registry.getValue(LAYOUT.type(TYPE), "kept")).isPresent();

        wall.addAndGet(Duration.ofMinutes(5).toMillis());
        assertThat(collect()).isEqualTo(1);
        assertThat(tombstone("young")).isFalse();
        assertThat(registry.getValue(LAYOUT.type(TYPE), "kept")).as("a live entity is never touched").isPresent();

        // an entity saved again after its tombstone went starts anew
        write("old", "{\"v\":2}");
        assertThat(registry.getValue(LAYOUT.versions(TYPE), "old").orElseThrow().value().asQword()).isEqualTo(1);
    }

    @Test
    void aTombstoneThatCannotBeReadIsKeptAndTheOthersAreStillCollected() {
        write("old", "{\"v\":1}");
        write("old", null);
        byte[] damaged = registry.getValue(LAYOUT.tombstones(TYPE), "old").orElseThrow().value().asBinary();
        damaged[damaged.length - 1] ^= 1;
        // sorts before "old": a pass that stopped at it would never reach "old"
        registry.commit(WriteBatch.builder().setValue(LAYOUT.tombstones(TYPE), "a-damaged", RegistryValue.binary(damaged))
                .setValue(LAYOUT.tombstones(TYPE), "b-not-binary", RegistryValue.sz("not a tombstone")).build());
        wall.addAndGet(WINDOW.plus(SKEW).toMillis() + 1);

        assertThat(collect()).isEqualTo(1);
        assertThat(tombstone("old")).isFalse();
        assertThat(tombstone("a-damaged")).as("kept: its stamp cannot be read, so neither can its age").isTrue();
        assertThat(tombstone("b-not-binary")).isTrue();
        assertThat(collect()).as("the next pass meets them again (and logs them at debug only)").isZero();
    }
}
