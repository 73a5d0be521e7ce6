package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.StoresAtSitesForTests;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two sites of one store, each an embedded registry with its own encryption keys, written through
 * the provider's stores at each site (the stamped write path) and shipped to each other by
 * shippers and translators: what one site's store writes — saves, a batch, a delete — reads back
 * through the other site's store, and concurrent saves of one entity at both sites end as the
 * later stamp's value at both, reported as a conflict.
 */
class StoresAtTwoSitesTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    /** What the stores keep. */
    public record Parcel(String label, long grams) {
    }

    private static final String GROUP = "RG";
    private static final String KEY_PATH = "Software/ReliableStore/Data";
    private static final StorageLayout LAYOUT = new StorageLayout(RegistryPath.parse(GROUP + "/" + KEY_PATH));
    private static final RegistryPath LOCKS = LAYOUT.root().child("Transactions").child("Locks");
    private static final RegistryPath LEDGER = LAYOUT.root().child("Sites").child("Applied");

    /** A site: its registry, its store factory, its wall clock. */
    private record Site(String name, ClusterRegistry registry, StoreFactory factory, AtomicLong wall) {
        EntityStore<Parcel> parcels() {
            return factory.store(Parcel.class);
        }

        EntityStates states() {
            return new EntityStates(LAYOUT, LOCKS, StoresAtSitesForTests.envelopes(factory), name);
        }
    }

    @TempDir
    Path dir;
    private final Map<String, Site> sites = new TreeMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    private final Queue<SiteTranslator.Conflict> conflicts = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void openSites() {
        for (String name : List.of("paris", "tokyo")) {
            String uri = uri(name);
            ClusterRegistry registry = ClusterRegistries.open(uri);
            AtomicLong wall = new AtomicLong(1_700_000_000_000L);
            ClusterPersistenceConfiguration config = ClusterPersistenceConfiguration.builder().clusterName(uri).resourceGroupName(GROUP)
                    .registryKeyPath(KEY_PATH).enableEncryption(true).passphrases(List.of(("passphrase of " + name).toCharArray())).build();
            sites.put(name, new Site(name, registry, StoresAtSitesForTests.open(config, registry, name, wall::get, Duration.ofSeconds(5)), wall));
        }
    }

    /** The registry of a site: embedded here. */
    String uri(String site) {
        return "embedded:" + dir.resolve(site);
    }

    @AfterEach
    void closeSites() {
        hold();
        sites.values().forEach(s -> {
            s.factory.close();
            s.registry.close();
        });
    }

    private void release() {
        for (Site from : sites.values()) {
            for (Site to : sites.values()) {
                if (from != to) {
                    SiteTranslator t = new SiteTranslator(from.states(), to.registry, to.states(),
                            new HybridClock(from.wall::get, Duration.ofSeconds(5)), conflicts::add);
                    shippers.add(new SiteShipper(from.registry, LAYOUT.root(), from.name, to.registry, to.name, LEDGER, t, Duration.ZERO,
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

    private Map<String, Parcel> content(String site) {
        Map<String, Parcel> out = new TreeMap<>();
        sites.get(site).parcels().getAll().forEach(v -> out.put(v.id(), v.value()));
        return out;
    }

    @Test
    void whatOneSitesStoreWritesReadsBackThroughTheOthers() {
        release();
        EntityStore<Parcel> paris = sites.get("paris").parcels();
        paris.save("p1", new Parcel("books", 1200));
        paris.save("p1", new Parcel("books", 1300), 1);
        Map<String, Parcel> batch = new LinkedHashMap<>();
        batch.put("p2", new Parcel("tea", 250));
        batch.put("p3", new Parcel("maps", 90));
        paris.saveBatch(batch);
        paris.save("p4", new Parcel("gone", 1));
        paris.delete("p4");

        EntityStore<Parcel> tokyo = sites.get("tokyo").parcels();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content("tokyo")).isEqualTo(content("paris")));
        assertThat(content("tokyo")).containsOnlyKeys("p1", "p2", "p3");
        assertThat(tokyo.get("p1").map(Versioned::value)).hasValue(new Parcel("books", 1300));
        assertThat(tokyo.exists("p4")).isFalse();

        // and back: tokyo's store writes over what came from paris
        tokyo.save("p2", new Parcel("tea", 300));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(paris.get("p2").map(Versioned::value)).hasValue(new Parcel("tea", 300)));
        assertThat(conflicts).isEmpty();
    }

    /**
     * A site whose clock runs a minute ahead ships a write; the other site's store then refuses to
     * write over it (its write would have to be stamped after it and drag its clock a minute ahead
     * for good), naming the site and how far ahead it is, and writes once the clocks agree.
     */
    @Test
    void aStampFromASiteWhoseClockRunsAheadRefusesALocalWriteOverItUntilTheClocksAgree() {
        Site paris = sites.get("paris");
        Site tokyo = sites.get("tokyo");
        tokyo.wall.addAndGet(60_000);
        tokyo.parcels().save("s", new Parcel("from the future", 1));
        release();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content("paris")).containsKey("s"));

        assertThatThrownBy(() -> paris.parcels().save("s", new Parcel("now", 2)))
                .isInstanceOfSatisfying(dev.reliablestore.cluster.SiteClockSkewException.class, e -> {
                    assertThat(e.site()).isEqualTo("tokyo");
                    assertThat(e.ahead()).isEqualTo(Duration.ofSeconds(60));
                    assertThat(e.maxSkew()).isEqualTo(Duration.ofSeconds(5));
                    assertThat(e.isRetryable()).isTrue();
                })
                .hasMessageContaining("site tokyo").hasMessageContaining("60000 ms ahead").hasMessageContaining("5000 ms");
        assertThat(paris.parcels().get("s").map(Versioned::value)).hasValue(new Parcel("from the future", 1));
        paris.parcels().save("other", new Parcel("unaffected", 3)); // only writes over the skewed stamp are refused

        paris.wall.addAndGet(58_000); // within the 5 s skew now
        paris.parcels().save("s", new Parcel("now", 2));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(content("tokyo")).containsEntry("s", new Parcel("now", 2)));
    }

    @Test
    void concurrentSavesAtBothSitesEndAsTheLaterStampAtBothAndAreReported() {
        Site paris = sites.get("paris");
        Site tokyo = sites.get("tokyo");
        tokyo.wall.addAndGet(100);
        tokyo.parcels().save("c", new Parcel("tokyo's", 2));
        paris.wall.addAndGet(200); // paris writes later by its clock, without having seen tokyo's write
        paris.parcels().save("c", new Parcel("paris's", 1));
        assertThat(tokyo.parcels().get("c").map(Versioned::value)).hasValue(new Parcel("tokyo's", 2));

        release();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(content("tokyo")).containsEntry("c", new Parcel("paris's", 1));
            assertThat(content("paris")).containsEntry("c", new Parcel("paris's", 1));
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> conflicts.stream().anyMatch(c -> c.id().equals("c") && c.targetSite().equals("tokyo")));
    }
}
