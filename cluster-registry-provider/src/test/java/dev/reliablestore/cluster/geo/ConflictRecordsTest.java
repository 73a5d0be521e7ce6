package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.cluster.ConflictRecord;
import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.geo.TestSites.Site;
import dev.reliablestore.registry.RegistryPath;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static dev.reliablestore.cluster.geo.SiteTranslatorTest.LEDGER;
import static dev.reliablestore.cluster.geo.SiteTranslatorTest.TYPE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two sites (embedded registries, encrypted values) shipping to each other with conflict records
 * on: every conflict a site settles leaves one record there with the losing write — updates and
 * deletes — sealed so that it can be neither read without the keys nor moved to another name or
 * site, written once however often the shipment is replayed, and removed once the window has
 * passed since it was settled.
 */
class ConflictRecordsTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    private static final Duration WINDOW = Duration.ofMinutes(10);

    @TempDir
    Path dir;
    private TestSites sites;
    private final Queue<SiteTranslator.Conflict> conflicts = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void openSites() {
        sites = new TestSites(dir, List.of("lima", "paris"));
    }

    @AfterEach
    void closeAll() {
        sites.close();
    }

    private void release() {
        sites.release(CrossSiteConflicts.CONFLICT_RECORD, null, WINDOW, conflicts::add);
    }

    private void hold() {
        sites.hold();
    }

    private Site site(String name) {
        return sites.site(name);
    }

    private static void save(Site s, String id, String json) {
        SiteTranslatorTest.write(s.registry(), s.states(), s.clock(), id, json == null ? null : json.getBytes(StandardCharsets.UTF_8));
    }

    private static List<ConflictRecord> records(Site s) {
        return SiteReplication.conflictRecords(s.site(), TYPE);
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
        await().atMost(Duration.ofSeconds(30)).until(() -> SiteTranslatorTest.states(paris.registry(), paris.states()).size() == 2);
        hold();
        conflicts.clear();
        // u: both update, paris later; d: lima updates, paris deletes later
        lima.wall().set(2_000_000);
        save(lima, "u", "{\"by\":\"lima\",\"secret\":\"lima-u2\"}");
        save(lima, "d", "{\"by\":\"lima\",\"secret\":\"lima-d2\"}");
        paris.wall().set(2_000_100);
        save(paris, "u", "{\"by\":\"paris\",\"secret\":\"paris-u2\"}");
        save(paris, "d", null);
        release();
        await().atMost(Duration.ofSeconds(30)).until(() -> records(lima).size() == 2 && records(paris).size() == 2 && conflicts.size() == 4);
        hold();
    }

    @Test
    void everySiteThatSettlesAConflictKeepsTheLosingWriteWithBothStampsAndTheVersions() {
        settleConflicts();
        for (Site s : sites.all()) {
            List<ConflictRecord> records = records(s);
            assertThat(records).extracting(ConflictRecord::id).containsExactlyInAnyOrder("u", "d");
            for (ConflictRecord r : records) {
                assertThat(r.type()).isEqualTo(TYPE);
                assertThat(r.site()).isEqualTo(s.name());
                assertThat(r.lost().site()).isEqualTo("lima");
                assertThat(r.lost().stamped()).isEqualTo(Instant.ofEpochMilli(2_000_000));
                assertThat(r.kept().site()).isEqualTo("paris");
                assertThat(r.kept().stamped()).isEqualTo(Instant.ofEpochMilli(2_000_100));
                assertThat(r.kept().deleted()).isEqualTo(r.id().equals("d"));
                assertThat(lostValue(r)).isEqualTo("{\"by\":\"lima\",\"secret\":\"lima-" + r.id() + "2\"}");
                // settled by the shipper that brought the later write there, on its site's clock
                assertThat(r.settled()).isEqualTo(Instant.ofEpochMilli(s.name().equals("lima") ? 2_000_100 : 2_000_000));
                SiteTranslator.Conflict c = conflicts.stream().filter(x -> x.targetSite().equals(s.name()) && x.id().equals(r.id()))
                        .findFirst().orElseThrow();
                assertThat(r.storedVersion()).isEqualTo(c.storedVersion());
                assertThat(r.resultVersion()).isEqualTo(c.resultVersion());
                assertThat(r.toString()).doesNotContain("secret").contains("bytes");
            }
            // sealed: the losing value is not readable in the registry
            for (VersionedValue v : s.registry().values(ConflictRecords.key(s.states(), TYPE)).values()) {
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
        sites.all().forEach(s -> before.put(s.name(), s.registry().values(ConflictRecords.key(s.states(), TYPE))));
        Map<String, Map<String, Long>> checkpoints = new TreeMap<>();
        for (Site s : sites.all()) {
            checkpoints.put(s.name(), checkpoints(s));
            s.registry().commit(WriteBatch.builder().deleteKey(LEDGER).build()); // every checkpoint back to the start
        }
        release();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> sites.all().forEach(s ->
                assertThat(checkpoints(s)).as(s.name()).isEqualTo(checkpoints.get(s.name()))));
        hold();
        sites.all().forEach(s -> assertThat(s.registry().values(ConflictRecords.key(s.states(), TYPE))).as(s.name()).isEqualTo(before.get(s.name())));
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
        RegistryPath key = ConflictRecords.key(lima.states(), TYPE);
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
        assertThat(ConflictRecords.collect(lima.site(), WINDOW, 2_000_100 + WINDOW.toMillis())).isZero();
        assertThat(records(lima)).hasSize(2);
        assertThat(ConflictRecords.collect(lima.site(), WINDOW, 2_000_101 + WINDOW.toMillis())).isEqualTo(2);
        assertThat(records(lima)).isEmpty();
        assertThat(records(site("paris"))).hasSize(2);
    }

    /** One batch at {@code s} saving every value of {@code values}, as a store's saveBatch writes it there. */
    static void saveBatch(Site s, Map<String, byte[]> values) {
        LocalWrites writes = new LocalWrites(s.states(), s.clock());
        LocalWrites.Reading reading = writes.reading(TYPE, values.keySet());
        LocalWrites.Plan plan = writes.plan(reading, values, s.registry().read(dev.reliablestore.registry.ReadBatch.of(reading.reads())));
        WriteBatch.Builder b = WriteBatch.builder();
        plan.commands().forEach(b::add);
        s.registry().commit(b.build());
    }

    /** Eight entities of 3 KiB of JSON that zstd cannot shrink, marked with {@code by}. */
    static Map<String, byte[]> eightLarge(String by, long seed) {
        java.util.Random random = new java.util.Random(seed);
        Map<String, byte[]> out = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            byte[] noise = new byte[2304];
            random.nextBytes(noise);
            out.put("big" + i, ("{\"by\":\"" + by + "\",\"noise\":\"" + java.util.Base64.getEncoder().encodeToString(noise) + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    /**
     * A shipped batch whose entities all conflict at the target, within its batch limit at the
     * origin but not once the losing values are added: the records are written ahead of it, and it
     * lands whole (32 KiB limit; each batch about 27 KiB, about 44 KiB with its eight records).
     */
    @Test
    void aShipmentTooLargeToCarryItsRecordsWritesThemAheadAndLandsWhole() {
        Site lima = site("lima");
        Site paris = site("paris");
        sites.limitShippedBatches(32 * 1024);
        saveBatch(lima, eightLarge("lima", 1));
        paris.wall().set(1_000_100);
        saveBatch(paris, eightLarge("paris", 2));
        release();
        await().atMost(Duration.ofSeconds(30)).until(() -> records(lima).size() == 8 && records(paris).size() == 8);
        hold(); // no shipper failed
        for (Site s : sites.all()) {
            assertThat(records(s)).as(s.name()).allSatisfy(r -> {
                assertThat(r.lost().site()).isEqualTo("lima");
                assertThat(lostValue(r)).startsWith("{\"by\":\"lima\"");
                assertThat(r.kept().site()).isEqualTo("paris");
            });
            assertThat(SiteTranslatorTest.states(s.registry(), s.states()).values()).as(s.name()).hasSize(8)
                    .allSatisfy(st -> assertThat(new String(st.value(), StandardCharsets.UTF_8)).startsWith("{\"by\":\"paris\""));
        }
        assertThat(conflicts).hasSize(16);
    }
}
