package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.HealthFault;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sites whose factories set different {@code conflictResolutionWindow}, {@code maxClockSkew} or
 * {@code crossSiteConflicts} would diverge without a fault (a site that collected a tombstone by a shorter
 * window applies a late update alone), so shippers compare the settings each site records and ship nothing
 * while they disagree: the batches wait, a health fault says why, and shipping resumes once they agree.
 */
class SiteSettingsTest {

    /** What the stores keep. */
    public record Parcel(String label, long grams) {
    }

    @TempDir
    Path dir;
    private final Map<String, StoreFactory> factories = new TreeMap<>();

    private static ConditionFactory await() {
        return Awaitility.await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    private StoreFactory open(String site, Map<String, String> settings) {
        Map<String, String> sites = new LinkedHashMap<>();
        for (String s : List.of("paris", "rome")) {
            sites.put(s, "embedded:" + dir.resolve(s));
        }
        Map<String, String> o = SiteOptionsForTests.withKeyStore(SiteOptionsForTests.options(site, sites), dir);
        o.putAll(settings);
        StoreFactory f = Persistence.openFactory("cluster-registry", o);
        factories.put(site, f);
        return f;
    }

    @AfterEach
    void closeAll() {
        factories.values().forEach(StoreFactory::close);
    }

    private EntityStore<Parcel> at(String site) {
        return factories.get(site).store(Parcel.class);
    }

    /**
     * Until a factory of a site holds its shipper lease, the site has recorded no settings, and shipments to it are
     * not held back (a site of an older build records none): the tests write once both sites have recorded theirs.
     */
    private void awaitRecorded(String... sites) {
        await().until(() -> java.util.Arrays.stream(sites).allMatch(s -> {
            ClusterStoreFactory f = (ClusterStoreFactory) factories.get(s);
            return f.registry().getValue(dev.reliablestore.cluster.geo.SiteReplication.settingsKey(f.layout()), "current").isPresent();
        }));
    }

    private Optional<HealthFault> fault(String site, String id) {
        return ((ClusterStoreFactory) factories.get(site)).registry().healthFaults().stream().filter(f -> f.id().equals(id)).findFirst();
    }

    @Test
    void sitesWithAnotherWindowShipNothingUntilTheyAgree() {
        open("paris", Map.of());
        open("rome", Map.of("conflictResolutionWindow", "12h"));
        awaitRecorded("paris", "rome");
        at("paris").save("p1", new Parcel("books", 1200));
        at("rome").save("r1", new Parcel("tea", 250));

        await().until(() -> fault("paris", "site-settings-rome").isPresent() && fault("rome", "site-settings-paris").isPresent());
        // the fault is raised when the shipper holds the batch back, so neither write can have crossed
        assertThat(at("rome").get("p1")).isEmpty();
        assertThat(at("paris").get("r1")).isEmpty();
        assertThat(fault("paris", "site-settings-rome").orElseThrow().description())
                .contains("conflictResolutionWindow=PT24H", "conflictResolutionWindow=PT12H", "site rome", "nothing is lost");

        // rome reopened with paris's settings: both sides ship what waited, and the faults go
        factories.remove("rome").close();
        open("rome", Map.of());
        await().untilAsserted(() -> {
            assertThat(at("rome").get("p1")).isPresent();
            assertThat(at("paris").get("r1")).isPresent();
            assertThat(fault("paris", "site-settings-rome")).isEmpty();
        });
    }

    @Test
    void anotherCrossSiteConflictPolicyOrClockSkewIsADisagreementToo() {
        open("paris", Map.of("maxClockSkew", "2s"));
        open("rome", Map.of("maxClockSkew", "2s", "crossSiteConflicts", "ConflictRecord"));
        awaitRecorded("paris", "rome");
        at("paris").save("p1", new Parcel("books", 1200));
        await().until(() -> fault("paris", "site-settings-rome").isPresent());
        assertThat(at("rome").get("p1")).isEmpty();
        assertThat(fault("paris", "site-settings-rome").orElseThrow().description())
                .contains("crossSiteConflicts=LastWriteWins", "crossSiteConflicts=ConflictRecord", "maxClockSkew=PT2S");

        factories.remove("rome").close();
        open("rome", Map.of("maxClockSkew", "3s"));
        // the skew differs now: still nothing shipped, and the fault says why
        await().until(() -> fault("paris", "site-settings-rome").map(f -> f.description().contains("maxClockSkew=PT3S")).orElse(false));
        assertThat(at("rome").get("p1")).isEmpty();
    }

    @Test
    void sitesThatAgreeShipAsAlwaysAndRaiseNoFault() {
        open("paris", Map.of("conflictResolutionWindow", "2d"));
        open("rome", Map.of("conflictResolutionWindow", "48h"));
        awaitRecorded("paris", "rome");
        at("paris").save("p1", new Parcel("books", 1200));
        await().untilAsserted(() -> assertThat(at("rome").get("p1")).isPresent());
        assertThat(fault("paris", "site-settings-rome")).isEmpty();
    }

    /** A resync judges tombstones and late writes as shipping does, so it must run with the settings the sites run with. */
    @Test
    void aResyncWithOtherSettingsThanTheSitesRunWithIsRefusedBeforeItWrites() {
        open("paris", Map.of("conflictResolutionWindow", "2d"));
        open("rome", Map.of("conflictResolutionWindow", "2d"));
        awaitRecorded("paris", "rome");
        ClusterStoreFactory paris = (ClusterStoreFactory) factories.get("paris");
        ClusterStoreFactory rome = (ClusterStoreFactory) factories.get("rome");
        assertThatThrownBy(() -> ClusterStoreAdmin.resync(paris.config(), CrossSiteConflicts.LAST_WRITE_WINS, Duration.ofDays(1),
                Duration.ofSeconds(5), null, false, "paris", paris.registry(), "rome", rome.registry()))
                .isInstanceOf(dev.reliablestore.api.ConfigurationException.class)
                .hasMessageContainingAll("conflictResolutionWindow=PT24H", "site rome runs with conflictResolutionWindow=PT48H");

        SiteReplication.Resynced r = ClusterStoreAdmin.resync(paris.config(), "paris", paris.registry(), "rome", rome.registry());
        assertThat(r.compared()).isZero();
    }

    /**
     * A fault left by a factory gone since (a restart) goes when the next holder's shipper finds the settings agree,
     * though nothing is written to ship: not at the next write, which may be far off.
     */
    @Test
    void aFaultLeftByAFactoryGoneSinceIsClearedWithoutAWrite() {
        open("paris", Map.of());
        open("rome", Map.of());
        at("paris").save("p1", new Parcel("books", 1200));
        await().untilAsserted(() -> assertThat(at("rome").get("p1")).isPresent());
        factories.remove("paris").close();
        factories.remove("rome").close(); // it holds paris's registry too
        try (dev.reliablestore.registry.ClusterRegistry paris = dev.reliablestore.registry.ClusterRegistries.open("embedded:" + dir.resolve("paris"))) {
            paris.addHealthFault(new HealthFault("site-settings-rome", 1, 0, "site rome ran with other settings (a factory gone since)",
                    "ReliableStore geo", 0));
        }
        open("paris", Map.of());
        open("rome", Map.of());
        await().until(() -> fault("paris", "site-settings-rome").isEmpty());
    }
}
