package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.SiteEnvelopesForTests;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LAYOUT;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LEDGER;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LOCKS;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.TYPE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Two sites (embedded registries, encrypted values) shipping to each other with conflict records
 * on: every conflict a site settles leaves one record there with the losing write — updates and
 * deletes — sealed so that it can be neither read without the keys nor moved to another name or
 * site, written once however often the shipment is replayed, and removed once the window has
 * passed since it was settled.
 */
class ConflictRecordsTest {

    private static final Duration WINDOW = Duration.ofMinutes(10);

    /** One site, as the shipper and the store see it, with a wall clock the test sets. */
    record Site(String name, SiteReplication.Site site, EntityStates states, AtomicLong wall, HybridClock clock) {
        ClusterRegistry registry() {
            return site.registry();
        }
    }

    @TempDir
    Path dir;
    private final KeyRing keys = SiteEnvelopesForTests.ring();
    private final Map<String, Site> sites = new TreeMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    private final Queue<SiteTranslator.Conflict> conflicts = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void openSites() {
        for (String name : List.of("lima", "paris")) {
            ClusterRegistry r = ClusterRegistries.open("embedded:" + dir.resolve(name));
            SiteReplication.Site s = new SiteReplication.Site(name, r, LAYOUT, LOCKS,
                    SiteEnvelopesForTests.codec(LAYOUT.root().toString(), keys, name));
            AtomicLong wall = new AtomicLong(1_000_000);
            sites.put(name, new Site(name, s, s.states(), wall, new HybridClock(wall::get, Duration.ofSeconds(5))));
        }
    }

    @AfterEach
    void closeAll() {
        hold();
        sites.values().forEach(s -> s.registry().close());
    }

    private void release() {
        for (Site from : sites.values()) {
            for (Site to : sites.values()) {
                if (from != to) {
                    SiteTranslator t = new SiteTranslator(from.states, to.registry(), to.states, from.clock, from.wall::get, WINDOW,
                            CrossSiteConflicts.CONFLICT_RECORD, null, conflicts::add);
                    shippers.add(new SiteShipper(from.registry(), LAYOUT.root(), from.name, to.registry(), to.name, LEDGER, t, Duration.ZERO,
                            Duration.ofMillis(20), Duration.ofSeconds(30)));
                }
            }
        }
    }

    private void hold() {
        shippers.forEach(SiteShipper::close);
        shippers.forEach(s -> assertThat(s.failure()).as(s.toString()).isNull());
        shippers.clear();
    }

    private Site site(String name) {
        return sites.get(name);
    }

    private static void save(Site s, String id, String json) {
        SiteTranslatorTest.write(s.registry(), s.states, s.clock, id, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    private static List<ConflictRecord> records(Site s) {
        return SiteReplication.conflictRecords(s.site, TYPE);
    }

    private static String lostValue(ConflictRecord r) {
        return r.lost().value().map(v -> new String(v, StandardCharsets.UTF_8)).orElse("(deleted)");
    }

    private void settleConflicts() {
        Site lima = site("lima");
        Site paris = site("paris");
        save(lima, "u", "{\"by\":\"lima\",\"secret\":\"lima-u\"}");
        save(lima, "d", "{\"by\":\"lima\",\"secret\":\"lima-d\"}");
        release();
        await().atMost(Duration.ofSeconds(30)).until(() -> SiteTranslatorTest.states(paris.registry(), paris.states).size() == 2);
        hold();
        conflicts.clear();
        // u: both update, paris later; d: lima updates, paris deletes later
        lima.wall.set(2_000_000);
        save(lima, "u", "{\"by\":\"lima\",\"secret\":\"lima-u2\"}");
        save(lima, "d", "{\"by\":\"lima\",\"secret\":\"lima-d2\"}");
        paris.wall.set(2_000_100);
        save(paris, "u", "{\"by\":\"paris\",\"secret\":\"paris-u2\"}");
        save(paris, "d", null);
        release();
        await().atMost(Duration.ofSeconds(30)).until(() -> records(lima).size() == 2 && records(paris).size() == 2 && conflicts.size() == 4);
        hold();
    }

    @Test
    void everySiteThatSettlesAConflictKeepsTheLosingWriteWithBothStampsAndTheVersions() {
        settleConflicts();
        for (Site s : sites.values()) {
            List<ConflictRecord> records = records(s);
            assertThat(records).extracting(ConflictRecord::id).containsExactlyInAnyOrder("u", "d");
            for (ConflictRecord r : records) {
                assertThat(r.type()).isEqualTo(TYPE);
                assertThat(r.site()).isEqualTo(s.name);
                assertThat(r.lost().site()).isEqualTo("lima");
                assertThat(r.lost().stamped()).isEqualTo(Instant.ofEpochMilli(2_000_000));
                assertThat(r.kept().site()).isEqualTo("paris");
                assertThat(r.kept().stamped()).isEqualTo(Instant.ofEpochMilli(2_000_100));
                assertThat(r.kept().deleted()).isEqualTo(r.id().equals("d"));
                assertThat(lostValue(r)).isEqualTo("{\"by\":\"lima\",\"secret\":\"lima-" + r.id() + "2\"}");
                // settled by the shipper that brought the later write there, on its site's clock
                assertThat(r.settled()).isEqualTo(Instant.ofEpochMilli(s.name.equals("lima") ? 2_000_100 : 2_000_000));
                SiteTranslator.Conflict c = conflicts.stream().filter(x -> x.targetSite().equals(s.name) && x.id().equals(r.id()))
                        .findFirst().orElseThrow();
                assertThat(r.storedVersion()).isEqualTo(c.storedVersion());
                assertThat(r.resultVersion()).isEqualTo(c.resultVersion());
                assertThat(r.toString()).doesNotContain("secret").contains("bytes");
            }
            // sealed: the losing value is not readable in the registry
            for (VersionedValue v : s.registry().values(ConflictRecords.key(s.states, TYPE)).values()) {
                assertThat(new String(v.value().asBinary(), StandardCharsets.ISO_8859_1)).doesNotContain("lima-");
            }
        }
        // at lima both of its own writes lost: the update was replaced (version 3), the delete left a tombstone (0)
        assertThat(records(site("lima"))).filteredOn(r -> r.id().equals("u")).singleElement()
                .satisfies(r -> assertThat(r.storedVersion()).isEqualTo(2)).satisfies(r -> assertThat(r.resultVersion()).isEqualTo(3));
        assertThat(records(site("lima"))).filteredOn(r -> r.id().equals("d")).singleElement()
                .satisfies(r -> assertThat(r.resultVersion()).isZero());
    }

    @Test
    void aShipmentReplayedFromTheStartLeavesOneRecordPerConflict() {
        settleConflicts();
        Map<String, Map<String, VersionedValue>> before = new TreeMap<>();
        sites.values().forEach(s -> before.put(s.name, s.registry().values(ConflictRecords.key(s.states, TYPE))));
        Map<String, Map<String, Long>> checkpoints = new TreeMap<>();
        for (Site s : sites.values()) {
            checkpoints.put(s.name, checkpoints(s));
            s.registry().commit(WriteBatch.builder().deleteKey(LEDGER).build()); // every checkpoint back to the start
        }
        release();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> sites.values().forEach(s ->
                assertThat(checkpoints(s)).as(s.name).isEqualTo(checkpoints.get(s.name))));
        hold();
        sites.values().forEach(s -> assertThat(s.registry().values(ConflictRecords.key(s.states, TYPE))).as(s.name).isEqualTo(before.get(s.name)));
        assertThat(conflicts).hasSize(4);
    }

    private static Map<String, Long> checkpoints(Site s) {
        Map<String, Long> out = new TreeMap<>();
        if (s.registry().keyExists(LEDGER)) {
            s.registry().values(LEDGER).forEach((origin, v) -> out.put(origin, v.value().asQword()));
        }
        return out;
    }

    @Test
    void aRecordMovedToAnotherNameOrSiteIsRefused() {
        settleConflicts();
        Site lima = site("lima");
        Site paris = site("paris");
        RegistryPath key = ConflictRecords.key(lima.states, TYPE);
        Map<String, VersionedValue> stored = lima.registry().values(key);
        List<String> names = new ArrayList<>(stored.keySet());
        // one record's bytes under the other's name, at the same site
        lima.registry().commit(WriteBatch.builder().setValue(key, names.get(1), stored.get(names.get(0)).value()).build());
        assertThatThrownBy(() -> records(lima)).isInstanceOf(DataIntegrityException.class);
        // a record of lima copied, under its own name, into paris's registry
        paris.registry().commit(WriteBatch.builder().setValue(key, names.get(0), stored.get(names.get(0)).value()).build());
        assertThatThrownBy(() -> records(paris)).isInstanceOf(DataIntegrityException.class).hasMessageContaining("bound to site 'lima'");
    }

    @Test
    void recordsAreRemovedOnceTheWindowHasPassedSinceTheyWereSettled() {
        settleConflicts();
        Site lima = site("lima");
        // lima's records were settled at 2_000_100 (paris's clock brought them)
        assertThat(ConflictRecords.collect(lima.site, WINDOW, 2_000_100 + WINDOW.toMillis())).isZero();
        assertThat(records(lima)).hasSize(2);
        assertThat(ConflictRecords.collect(lima.site, WINDOW, 2_000_101 + WINDOW.toMillis())).isEqualTo(2);
        assertThat(records(lima)).isEmpty();
        assertThat(records(site("paris"))).hasSize(2);
    }
}
