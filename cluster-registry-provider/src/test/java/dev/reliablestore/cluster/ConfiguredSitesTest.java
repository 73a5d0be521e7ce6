package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Three sites of one store, each an embedded registry, in one process, opened from the
 * configuration keys alone ({@code sites.<site>}, {@code localSite}): each factory ships its
 * site's writes to the two others. What one site writes reaches the others; writes that meet
 * (replication held) end as the write with the greatest stamp at every site, updates and deletes
 * alike, with a {@code ConflictResolved} event that carries both writes.
 */
class ConfiguredSitesTest {

    /** What the stores keep. */
    public record Parcel(String label, long grams) {
    }

    private static final List<String> SITES = List.of("paris", "rome", "tokyo");

    @TempDir
    Path dir;
    private final Map<String, StoreFactory> factories = new TreeMap<>();
    private final Queue<StoreEvent.ConflictResolved> events = new ConcurrentLinkedQueue<>();

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within
     * milliseconds of it, and Awaitility's default first delay of 100 ms, paid by each of the 33 waits
     * of a run of this class, cost it about a second.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    /** Options every factory of the test gets besides the sites' own. */
    private final Map<String, String> extra = new HashMap<>();

    private Map<String, String> options(String localSite) {
        Map<String, String> sites = new java.util.LinkedHashMap<>();
        SITES.forEach(s -> sites.put(s, uri(s)));
        // keys from one key store: the passphrase's per-site derivation is covered by SiteResyncTest
        Map<String, String> o = SiteOptionsForTests.withKeyStore(SiteOptionsForTests.options(localSite, sites), dir);
        o.put("registryKeyPath", "Software/ReliableStore/Data");
        // retryDelay stays SiteOptionsForTests' 100 ms (ConfiguredSitesZooKeeperTest's too): with the default 1 s, a
        // shipment that met a target changed under it, or a site not reached yet, was tried again a second later
        o.putAll(extra);
        return o;
    }

    /** The registry of a site: embedded here. */
    String uri(String site) {
        return "embedded:" + dir.resolve(site);
    }

    private void openAll() {
        openAll(s -> Persistence.openFactory("cluster-registry", options(s)));
    }

    private void openAll(java.util.function.Function<String, StoreFactory> open) {
        for (String s : SITES) {
            StoreFactory f = open.apply(s);
            factories.put(s, f);
            f.store(Parcel.class).unwrap(ClusterPersistenceStore.class).addListener(e -> {
                if (e instanceof StoreEvent.ConflictResolved c) {
                    events.add(c);
                }
            });
        }
    }

    @AfterEach
    void closeAll() {
        factories.values().forEach(StoreFactory::close);
    }

    private EntityStore<Parcel> at(String site) {
        return factories.get(site).store(Parcel.class);
    }

    private SiteLinks links(String site) {
        return ((ClusterStoreFactory) factories.get(site)).siteLinks();
    }

    private Map<String, Parcel> content(String site) {
        Map<String, Parcel> out = new TreeMap<>();
        at(site).getAll().forEach(v -> out.put(v.id(), v.value()));
        return out;
    }

    private void awaitConverged() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(content("rome")).isEqualTo(content("paris"));
            assertThat(content("tokyo")).isEqualTo(content("paris"));
        });
        for (String s : SITES) {
            links(s).links().forEach((target, link) -> assertThat(link.failure()).as(s + " -> " + target).isEmpty());
        }
    }

    /** The wall clock moves on a millisecond, so the next write's stamp is later in time, not only by its site's name. */
    private static void nextMillisecond() {
        long now = System.currentTimeMillis();
        await().pollInterval(Duration.ofMillis(1)).until(() -> System.currentTimeMillis() > now);
    }

    @Test
    void whatEachSiteWritesReachesTheOthers() {
        openAll();
        at("paris").save("p1", new Parcel("books", 1200));
        Map<String, Parcel> batch = new LinkedHashMap<>();
        batch.put("t1", new Parcel("tea", 250));
        batch.put("t2", new Parcel("maps", 90));
        at("tokyo").saveBatch(batch);
        at("rome").save("r1", new Parcel("gone", 1));
        at("rome").delete("r1");
        at("rome").save("r2", new Parcel("oil", 500));
        // a transaction at a site: stamped when it commits, shipped whole
        dev.reliablestore.spi.tx.TransactionBranch tx = ((ClusterStoreFactory) factories.get("paris"))
                .begin(dev.reliablestore.spi.tx.TransactionId.of(1, "g", "b"));
        tx.store(Parcel.class).save("x1", new Parcel("in a transaction", 1));
        tx.store(Parcel.class).save("x2", new Parcel("in a transaction", 2));
        tx.prepare();
        tx.commit();

        awaitConverged();
        assertThat(content("paris")).containsOnlyKeys("p1", "t1", "t2", "r2", "x1", "x2");
        // each site keeps its own versions: an overwrite at one site reads back at another
        Versioned<Parcel> atRome = at("rome").get("p1").orElseThrow();
        at("rome").save("p1", new Parcel("books", 1300), atRome.version());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(at("tokyo").get("p1").map(Versioned::value)).hasValue(new Parcel("books", 1300)));
        awaitConverged();
        assertThat(events).isEmpty();
    }

    @Test
    void eachSitesShippingIsPublishedAsMetersWithTheLagOfWhatWaits() {
        Map<String, String> paris = options("paris");
        paris.put("siteReplicationDelay", "500ms"); // paris gathers its writes for half a second before it ships them
        factories.put("paris", Persistence.openFactory("cluster-registry", paris));
        factories.put("rome", Persistence.openFactory("cluster-registry", options("rome")));
        factories.put("tokyo", Persistence.openFactory("cluster-registry", options("tokyo")));
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        new dev.reliablestore.cluster.micrometer.SiteMeterBinder(factories.get("paris"), List.of()).bindTo(meters);
        java.util.function.BiFunction<String, String, Double> meter = (name, target) -> {
            io.micrometer.core.instrument.Meter m = meters.find(name).tags("site", "paris", "target", target).meter();
            return m == null ? null : m.measure().iterator().next().getValue();
        };
        assertThat(meters.find("reliablestore.site.replication.lag").meters()).hasSize(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> meter.apply("reliablestore.site.shipping", "rome") == 1
                && meter.apply("reliablestore.site.shipping", "tokyo") == 1);

        at("paris").save("m1", new Parcel("metered", 1));
        // gathered: the write waits in the shipper, and the lag shows how long
        await().atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(20))
                .until(() -> meter.apply("reliablestore.site.replication.lag", "rome") > 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> at("rome").get("m1").isPresent() && at("tokyo").get("m1").isPresent());
        await().atMost(Duration.ofSeconds(10)).until(() -> meter.apply("reliablestore.site.replication.lag", "rome") == 0
                && meter.apply("reliablestore.site.replication.lag", "tokyo") == 0);
        double shipped = meter.apply("reliablestore.site.shipped", "rome");
        assertThat(shipped).isGreaterThanOrEqualTo(1);

        // while paris does not ship, it says so, and no lag is claimed; its count of shipped batches stays
        links("paris").hold();
        assertThat(meter.apply("reliablestore.site.shipping", "rome")).isZero();
        assertThat(meter.apply("reliablestore.site.replication.lag", "rome")).isNaN();
        assertThat(ClusterStoreAdmin.siteShipping(factories.get("paris"))).extracting(SiteShipping::target, SiteShipping::running)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("rome", false), org.assertj.core.groups.Tuple.tuple("tokyo", false));
        assertThat(meter.apply("reliablestore.site.shipped", "rome")).isEqualTo(shipped);
        at("paris").save("m2", new Parcel("metered", 2));
        links("paris").release();
        await().atMost(Duration.ofSeconds(30)).until(() -> at("rome").get("m2").isPresent());
        await().atMost(Duration.ofSeconds(10)).until(() -> meter.apply("reliablestore.site.shipped", "rome") > shipped);
        assertThat(ClusterStoreAdmin.siteShipping(factories.get("rome"))).extracting(SiteShipping::site).containsOnly("rome");
    }

    @Test
    void writesThatMeetEndAsTheLatestStampEverywhereWithAnEventCarryingBoth() {
        openAll();
        at("paris").save("both", new Parcel("first", 1));
        awaitConverged();

        SITES.forEach(s -> links(s).hold());
        // the same new entity written at every site, rome last; an update at paris and a later delete at tokyo
        at("paris").save("p", new Parcel("from paris", 10));
        at("paris").save("both", new Parcel("updated at paris", 2), 1);
        nextMillisecond();
        at("tokyo").save("p", new Parcel("from tokyo", 20));
        at("tokyo").delete("both");
        nextMillisecond();
        at("rome").save("p", new Parcel("from rome", 30));
        // held: each site sees its own writes
        assertThat(at("paris").get("p").map(Versioned::value)).hasValue(new Parcel("from paris", 10));
        assertThat(at("tokyo").get("p").map(Versioned::value)).hasValue(new Parcel("from tokyo", 20));
        assertThat(at("tokyo").exists("both")).isFalse();
        assertThat(at("paris").get("both").map(Versioned::value)).hasValue(new Parcel("updated at paris", 2));
        // what waits, pair by pair: at least each site's writes since the hold (batches a site made
        // before it, a store's type descriptor say, may not have been shipped yet either)
        Map<String, SiteLinkStatus> held = linkStatus();
        assertThat(held.get("paris->tokyo").waiting().orElseThrow()).isGreaterThanOrEqualTo(2L);
        assertThat(held.get("paris->rome").waiting().orElseThrow()).isGreaterThanOrEqualTo(2L);
        assertThat(held.get("tokyo->paris").waiting().orElseThrow()).isGreaterThanOrEqualTo(2L);
        assertThat(held.get("rome->paris").waiting().orElseThrow()).isGreaterThanOrEqualTo(1L);
        assertThat(held.get("paris->tokyo").oldestWaiting()).isPresent();
        assertThat(held.get("paris->tokyo").shipper()).hasValueSatisfying(holder -> assertThat(holder).contains(" until "));
        assertThat(held.get("paris->tokyo").healthy()).isFalse();

        SITES.forEach(s -> links(s).release());
        awaitConverged();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(linkStatus().values()).allSatisfy(l -> assertThat(l.healthy()).as(l.toString()).isTrue()));
        for (String s : SITES) {
            assertThat(at(s).get("p").map(Versioned::value)).as(s).hasValue(new Parcel("from rome", 30));
            assertThat(at(s).exists("both")).as(s).isFalse();
        }

        // where two of the writes of p met, the later stamp was kept: rome's beat the others where it
        // arrived (only rome ships rome's writes, and each site held one of its own), and paris's and
        // tokyo's each lost at their own site at least; paris's update lost to tokyo's later delete
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<StoreEvent.SiteConflict> onP = acrossSites("p");
            assertThat(onP).allSatisfy(c -> {
                assertThat(c.kept().stamped()).isAfter(c.lost().stamped());
                assertThat(c.lost().site()).isNotEqualTo("rome");
            });
            assertThat(onP).extracting(c -> c.kept().site()).contains("rome");
            assertThat(onP).extracting(c -> c.lost().site()).contains("paris", "tokyo");
            List<StoreEvent.SiteConflict> onBoth = acrossSites("both");
            assertThat(onBoth).isNotEmpty().allSatisfy(c -> {
                assertThat(c.kept().deleted()).isTrue();
                assertThat(c.kept().site()).isEqualTo("tokyo");
                assertThat(c.lost().site()).isEqualTo("paris");
                assertThat(new String(c.lost().value().orElseThrow(), StandardCharsets.UTF_8)).contains("updated at paris");
            });
        });
        StoreEvent.SiteConflict one = acrossSites("p").stream().filter(c -> c.kept().site().equals("rome")).findFirst().orElseThrow();
        assertThat(new String(one.kept().value().orElseThrow(), StandardCharsets.UTF_8)).contains("from rome");
        assertThat(one.toString()).doesNotContain("from rome").contains("bytes");
        assertThat(events).allSatisfy(e -> assertThat(e.strategy()).isEqualTo("LastWriteWins"));
    }

    @Test
    void withConflictRecordsEverySiteKeepsTheLosingWritesItSettledDurably() {
        extra.put("crossSiteConflicts", "ConflictRecord");
        openAll();
        at("paris").save("p", new Parcel("first", 1));
        awaitConverged();
        SITES.forEach(s -> links(s).hold());
        at("paris").save("p", new Parcel("secret of paris", 2), 1);
        nextMillisecond();
        at("tokyo").save("p", new Parcel("secret of tokyo", 3), 1);
        SITES.forEach(s -> links(s).release());
        awaitConverged();
        assertThat(at("rome").get("p").map(Versioned::value)).hasValue(new Parcel("secret of tokyo", 3));

        // every conflict settled at a site is an event (raised by the factory whose shipper settled
        // it) and a record at that site, with the same writes and versions
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(events).isNotEmpty().allSatisfy(e -> assertThat(e.strategy()).isEqualTo("ConflictRecord"));
            for (String s : SITES) {
                // every site gets both writes and settles the second it gets; equal contents alone
                // can come before rome gets paris's losing write, which it then settles later
                assertThat(recordsAt(s)).as(s).hasSize(1);
                assertThat(recordsAt(s)).as(s).containsExactlyInAnyOrderElementsOf(
                        events.stream().filter(e -> e.acrossSites().orElseThrow().site().equals(s)).map(ConfiguredSitesTest::asRecord).toList());
            }
        });
        // paris's update lost at paris itself (tokyo's arrived) and at tokyo (paris's arrived)
        for (String s : List.of("paris", "tokyo")) {
            assertThat(records(s)).as(s).singleElement().satisfies(r -> {
                assertThat(r.lost().site()).isEqualTo("paris");
                assertThat(new String(r.lost().value().orElseThrow(), StandardCharsets.UTF_8)).contains("secret of paris");
                assertThat(r.kept().site()).isEqualTo("tokyo");
                assertThat(r.kept().deleted()).isFalse();
                assertThat(r.toString()).doesNotContain("secret");
            });
        }
        // durable: a site's records outlive its factories
        Map<String, List<ConflictRecord>> before = new TreeMap<>();
        SITES.forEach(s -> before.put(s, records(s)));
        closeAll();
        factories.clear();
        openAll();
        SITES.forEach(s -> assertThat(records(s)).as(s).isEqualTo(before.get(s)));
    }

    /** Something stored without a resolver. */
    public record Unmergeable(String text) {
    }

    @Test
    void withMergeConcurrentUpdatesEndAsTheResolversMergeAtEverySite() {
        openAll(s -> {
            ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder().resourceGroupName("RG")
                    .registryKeyPath("Software/ReliableStore/Data").localSite(s).siteReplicationDelay(Duration.ZERO)
                    .crossSiteConflicts(CrossSiteConflicts.MERGE)
                    // labels merged as a sorted set, the heavier weight kept: a merge that meets its own result again
                    // (two sites merged overlapping writes) changes nothing
                    .conflictResolver(Parcel.class, (id, stored, lost, expected) -> {
                        java.util.TreeSet<String> labels = new java.util.TreeSet<>(List.of(stored.value().label().split("\\+")));
                        labels.addAll(List.of(lost.label().split("\\+")));
                        return new Parcel(String.join("+", labels), Math.max(stored.value().grams(), lost.grams()));
                    });
            SITES.forEach(site -> b.site(site, uri(site)));
            return ClusterPersistenceProvider.open(b.build());
        });
        assertThatThrownBy(() -> factories.get("paris").store(Unmergeable.class)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("crossSiteConflicts = Merge").hasMessageContaining("Unmergeable");
        SITES.forEach(s -> links(s).hold());
        at("paris").save("p", new Parcel("paris", 1));
        nextMillisecond();
        at("rome").save("p", new Parcel("rome", 10));
        nextMillisecond();
        at("tokyo").save("p", new Parcel("tokyo", 100));
        SITES.forEach(s -> links(s).release());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (String s : SITES) {
                assertThat(at(s).get("p").map(Versioned::value)).as(s).hasValue(new Parcel("paris+rome+tokyo", 100));
            }
        });
        awaitConverged();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events).isNotEmpty()
                .allSatisfy(e -> assertThat(e.strategy()).isEqualTo("Merge")));
    }

    private List<ConflictRecord> records(String site) {
        ClusterPersistenceStore<?> store = at(site).unwrap(ClusterPersistenceStore.class);
        return store.conflictRecords();
    }

    /** A record as the event of the same conflict tells it (the event's value of the kept write and its time left out). */
    private List<String> recordsAt(String site) {
        return records(site).stream().map(r -> r.site() + " " + r.id() + " kept " + r.kept().site() + "@" + r.kept().stamped() + " lost "
                + r.lost() + " " + r.storedVersion() + "->" + r.resultVersion()).toList();
    }

    private static String asRecord(StoreEvent.ConflictResolved e) {
        StoreEvent.SiteConflict c = e.acrossSites().orElseThrow();
        return c.site() + " " + e.id() + " kept " + c.kept().site() + "@" + c.kept().stamped() + " lost " + c.lost() + " "
                + e.storedVersion() + "->" + e.resultVersion();
    }

    private Map<String, SiteLinkStatus> linkStatus() {
        Map<String, ClusterRegistry> registries = new TreeMap<>();
        factories.forEach((site, f) -> registries.put(site, ((ClusterStoreFactory) f).registry()));
        Map<String, SiteLinkStatus> out = new TreeMap<>();
        ClusterStoreAdmin.siteLinks(((ClusterStoreFactory) factories.get("paris")).layout().root(), registries, Duration.ofSeconds(20))
                .forEach(l -> out.put(l.from() + "->" + l.to(), l));
        return out;
    }

    private List<StoreEvent.SiteConflict> acrossSites(String id) {
        List<StoreEvent.SiteConflict> out = new ArrayList<>();
        events.stream().filter(e -> e.id().equals(id)).forEach(e -> out.add(e.acrossSites().orElseThrow()));
        return out;
    }

    @Test
    void aSiteThatCannotBeReachedYetDoesNotKeepTheFactoryFromOpeningAndIsShippedToWhenItIs() {
        // tokyo's registry is held by a registry opened outside the store: its directory is locked
        ClusterRegistry elsewhere = ClusterRegistries.open("embedded:" + dir.resolve("tokyo"));
        Map<String, String> o = options("paris");
        o.remove("sites.rome");
        o.put("sites.paris", "embedded:" + dir.resolve("paris"));
        o.put("sites.tokyo", "embedded:" + dir.resolve("tokyo"));
        StoreFactory paris = Persistence.openFactory("cluster-registry", o);
        factories.put("paris", paris);
        paris.store(Parcel.class).save("p1", new Parcel("waits", 5));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            ClusterRegistry local = ((ClusterStoreFactory) paris).registry();
            assertThat(local.healthFaults()).extracting(HealthFault::id).contains("site-unreachable-tokyo");
        });
        elsewhere.close();

        Map<String, String> t = new HashMap<>(o);
        t.put("localSite", "tokyo");
        StoreFactory tokyo = Persistence.openFactory("cluster-registry", t);
        factories.put("tokyo", tokyo);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(tokyo.store(Parcel.class).get("p1").map(Versioned::value)).hasValue(new Parcel("waits", 5)));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(((ClusterStoreFactory) paris).registry().healthFaults()).extracting(HealthFault::id)
                        .doesNotContain("site-unreachable-tokyo"));
    }

    /**
     * The factory that raised the unreachable fault is gone without clearing it (killed, or the lease moved while it
     * stayed open): the next factory of the site that reaches the target clears it.
     */
    @Test
    void anUnreachableFaultLeftByAnotherFactoryIsClearedByTheNextOneThatReachesTheSite() {
        Map<String, String> o = options("paris");
        o.remove("sites.rome");
        o.put("sites.paris", "embedded:" + dir.resolve("paris"));
        o.put("sites.tokyo", "embedded:" + dir.resolve("tokyo"));
        try (ClusterRegistry paris = ClusterRegistries.open("embedded:" + dir.resolve("paris"))) {
            paris.addHealthFault(new HealthFault("site-unreachable-tokyo", 1, 0, "site tokyo cannot be reached from site paris (a"
                    + " factory killed since)", "ReliableStore geo", 0));
        }
        StoreFactory paris = Persistence.openFactory("cluster-registry", o);
        factories.put("paris", paris);
        paris.store(Parcel.class).save("p1", new Parcel("after a restart", 1));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(((ClusterStoreFactory) paris).registry().healthFaults()).extracting(HealthFault::id)
                        .doesNotContain("site-unreachable-tokyo"));
    }

    /**
     * A value saved before the store had sites carries no stamp, and a re-encryption keeps it so:
     * the rewrite reaches the shipper like a write, and must not stop shipping to a site seeded with
     * the same value (docs/geo-replication.md, "seed the other sites from a copy").
     */
    @Test
    void aReencryptionOfValuesSavedBeforeSitesWereConfiguredDoesNotStopShipping() throws java.io.IOException {
        Map<String, String> o = options("paris");
        o.remove("sites.rome");
        o.put("sites.paris", "embedded:" + dir.resolve("paris"));
        o.put("sites.tokyo", "embedded:" + dir.resolve("tokyo"));
        Map<String, String> withoutSites = new HashMap<>(o);
        withoutSites.keySet().removeIf(k -> k.startsWith("sites.") || k.equals("localSite") || k.equals("siteReplicationDelay"));
        withoutSites.put("clusterName", "embedded:" + dir.resolve("paris"));
        try (StoreFactory before = Persistence.openFactory("cluster-registry", withoutSites)) {
            before.store(Parcel.class).save("old", new Parcel("from before the sites", 7));
        }
        copyTree(dir.resolve("paris"), dir.resolve("tokyo"));
        dev.reliablestore.cluster.crypto.KeyStoreFiles.addNewKey(Path.of(o.get("keyStorePath")), "PKCS12",
                "key store password of the sites' tests".toCharArray(), "sites-key-2");
        o.put("keyStoreActiveAlias", "sites-key-2");
        Map<String, String> t = new HashMap<>(o);
        t.put("localSite", "tokyo");
        factories.put("paris", Persistence.openFactory("cluster-registry", o));
        factories.put("tokyo", Persistence.openFactory("cluster-registry", t));

        @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
        ClusterPersistenceStore<Parcel> paris = at("paris").unwrap(ClusterPersistenceStore.class);
        assertThat(paris.reencrypt()).isEqualTo(1);
        assertThat(paris.keyUsage()).containsOnlyKeys("sites-key-2");
        at("paris").save("new", new Parcel("after the rotation", 8));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(at("tokyo").get("new").map(Versioned::value)).hasValue(new Parcel("after the rotation", 8)));
        assertThat(at("tokyo").get("old").map(Versioned::value)).hasValue(new Parcel("from before the sites", 7));
        assertThat(at("paris").get("old").map(Versioned::value)).hasValue(new Parcel("from before the sites", 7));
        links("paris").links().forEach((target, link) -> assertThat(link.failure()).as("paris -> " + target).isEmpty());
        assertThat(((ClusterStoreFactory) factories.get("paris")).registry().healthFaults()).extracting(HealthFault::id)
                .noneMatch(id -> id.startsWith("site-stopped"));
        assertThat(events).isEmpty();
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                java.nio.file.Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    /**
     * Two factories of one site (here in one process; several processes of a ZooKeeper site are
     * the same to the lease): the first holds the site's shipper lease and ships, the other ships
     * nothing; when the first closes it lets go of the lease and the other takes over.
     */
    @Test
    void preferredReadsGoToThePreferredSiteWhileItCanBeReachedAndToTheLocalSiteOtherwise() {
        // tokyo's registry is held by a registry opened outside the store: tokyo cannot be reached
        ClusterRegistry elsewhere = ClusterRegistries.open("embedded:" + dir.resolve("tokyo"));
        Map<String, String> o = options("paris");
        o.remove("sites.rome");
        o.put("preferredSite", "tokyo");
        StoreFactory paris = Persistence.openFactory("cluster-registry", o);
        factories.put("paris", paris);
        links("paris").hold(); // nothing is shipped: what each site holds shows which one answered
        at("paris").save("p1", new Parcel("at paris", 1));
        ClusterPersistenceStore<?> store = at("paris").unwrap(ClusterPersistenceStore.class);
        @SuppressWarnings("unchecked")
        PreferredReads<Parcel> reads = (PreferredReads<Parcel>) store.preferredReads();

        // tokyo is down: paris answers
        assertThat(reads.site()).hasValue("paris");
        assertThat(reads.get("p1")).hasValue(new Parcel("at paris", 1));
        assertThat(reads.count()).isEqualTo(1);

        elsewhere.close();
        Map<String, String> t = new HashMap<>(o);
        t.put("localSite", "tokyo");
        t.remove("preferredSite");
        StoreFactory tokyo = Persistence.openFactory("cluster-registry", t);
        factories.put("tokyo", tokyo);
        links("tokyo").hold();
        tokyo.store(Parcel.class).save("t1", new Parcel("at tokyo", 2));
        tokyo.store(Parcel.class).save("t2", new Parcel("at tokyo", 3));

        // tokyo is up: it answers, though paris holds none of its entities
        await().atMost(Duration.ofSeconds(30)).until(() -> reads.site().equals(java.util.Optional.of("tokyo")));
        assertThat(reads.get("t1")).hasValue(new Parcel("at tokyo", 2));
        assertThat(reads.get("p1")).isEmpty();
        assertThat(reads.exists("t2")).isTrue();
        assertThat(reads.count()).isEqualTo(2);
        assertThat(reads.getAll()).containsExactly(new Parcel("at tokyo", 2), new Parcel("at tokyo", 3));
        assertThat(reads.getMany(List.of("t2", "p1", "t1"))).containsExactly(java.util.Map.entry("t2", new Parcel("at tokyo", 3)),
                java.util.Map.entry("t1", new Parcel("at tokyo", 2)));
        // the store's own reads, whose versions may be written back, stay at paris
        assertThat(at("paris").get("t1")).isEmpty();
        assertThat(at("paris").get("p1").map(Versioned::value)).hasValue(new Parcel("at paris", 1));
        assertThatThrownBy(() -> reads.get(StorageLayout.METADATA)).isInstanceOf(dev.reliablestore.api.InvalidIdException.class);
    }

    @Test
    void ofTwoFactoriesOfOneSiteOneShipsAndTheOtherTakesOverWhenItCloses() {
        openAll();
        ClusterStoreFactory first = (ClusterStoreFactory) factories.get("paris");
        await().atMost(Duration.ofSeconds(10)).until(() -> first.siteLinks().shipping());
        ClusterStoreFactory second = (ClusterStoreFactory) Persistence.openFactory("cluster-registry", options("paris"));
        try {
            EntityStore<Parcel> parcels = second.store(Parcel.class);
            parcels.save("before", new Parcel("shipped by the first", 1));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(at("rome").exists("before")).isTrue());
            assertThat(second.siteLinks().shipping()).isFalse();
            assertThat(second.siteLinks().links()).isEmpty();

            first.close();
            parcels.save("after", new Parcel("shipped by the second", 2));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(at("rome").exists("after")).isTrue();
                assertThat(at("tokyo").exists("after")).isTrue();
            });
            assertThat(second.siteLinks().shipping()).isTrue();
        } finally {
            second.close();
        }
    }

    @Test
    void theSiteKeysAreCheckedTogether() {
        Map<String, String> o = options("paris");
        o.put("localSite", "lyon");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("localSite = lyon").hasMessageContaining("[paris, rome, tokyo]");
        o.put("localSite", "paris");
        o.put("clusterName", "embedded:" + dir.resolve("elsewhere"));
        // (the sites' URIs are whatever uri() gives; this one is none of them)
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("clusterName").hasMessageContaining("sites.paris");
        o.remove("clusterName");
        o.put("sites.rome", o.get("sites.tokyo"));
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("also the registry of site");
        o.put("sites.rome", uri("rome"));
        o.put("sites.paris.registry.groupCommit", "false");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("registry.<option>");
        o.remove("sites.paris.registry.groupCommit");
        o.put("sites.rome.registry.groupComit", "false");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("sites.rome.registry.groupComit").hasMessageContaining("groupCommit");
        o.remove("sites.rome.registry.groupComit");
        o.put("sites.par is", "embedded:x");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("does not name a site");
        o.remove("sites.par is");
        o.put("maxClockSkew", "10ms");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("maxClockSkew").hasMessageContaining("100ms");
        o.remove("maxClockSkew");
        ClusterPersistenceConfiguration ok = ClusterPersistenceConfiguration.fromMap(o);
        assertThat(ok.clusterName()).isEqualTo(uri("paris"));
        assertThat(ok.localSite()).hasValue("paris");
        assertThat(ok.siteReplicationDelay()).isZero();
        assertThat(ok.maxClockSkew()).isEqualTo(Duration.ofSeconds(5));
        assertThat(ok.conflictResolutionWindow()).isEqualTo(Duration.ofHours(24));
        assertThat(ok.preferredSite()).as("the local site, unless another is given").hasValue("paris");
        o.put("preferredSite", "lyon");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("preferredSite = lyon").hasMessageContaining("[paris, rome, tokyo]");
        o.put("preferredSite", "rome");
        assertThat(ClusterPersistenceConfiguration.fromMap(o).preferredSite()).hasValue("rome");
        o.remove("preferredSite");
        try (ClusterRegistry mine = ClusterRegistries.open("embedded:" + dir.resolve("held-by-the-caller"))) {
            assertThatThrownBy(() -> ClusterPersistenceProvider.open(ok, mine)).isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("opens the sites' registries itself");
        }
        o.put("conflictResolutionWindow", "31d");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("conflictResolutionWindow").hasMessageContaining("30d");
        o.remove("conflictResolutionWindow");
        assertThat(ok.crossSiteConflicts()).isEqualTo(CrossSiteConflicts.LAST_WRITE_WINS);
        o.put("crossSiteConflicts", "ConflictRecord");
        assertThat(ClusterPersistenceConfiguration.fromMap(o).crossSiteConflicts()).isEqualTo(CrossSiteConflicts.CONFLICT_RECORD);
        o.put("crossSiteConflicts", "Merge");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(o)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("crossSiteConflicts").hasMessageContaining("Merge").hasMessageContaining("ConflictResolver");
        o.remove("crossSiteConflicts");

        Map<String, String> single = new HashMap<>(Map.of("resourceGroupName", "RG", "registryKeyPath", "Data", "siteReplicationDelay", "1s"));
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(single)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("siteReplicationDelay").hasMessageContaining("no sites are configured");
        single.remove("siteReplicationDelay");
        single.put("preferredSite", "paris");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(single)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("preferredSite").hasMessageContaining("no sites are configured");
        single.remove("preferredSite");
        single.put("crossSiteConflicts", "ConflictRecord");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(single)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("crossSiteConflicts").hasMessageContaining("no sites are configured");
        single.remove("crossSiteConflicts");
        single.put("sites.paris", "embedded:x");
        single.put("localSite", "paris");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(single)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("2..16 sites");
    }
}
