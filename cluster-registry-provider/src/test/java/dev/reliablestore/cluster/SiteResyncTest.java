package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.HealthFault;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A site that fell out of another's retained history is repaired with a resync: paris keeps no
 * history beyond what recovery needs, writes while tokyo cannot be reached, so its shipper to tokyo
 * stops (site-resync-tokyo); the resync merges paris's entities into tokyo and moves tokyo's
 * checkpoint, the shipper starts again by itself, ships what paris writes next, and the fault goes.
 * A conflict the resync settles is kept as the cross-site policy says, as a shipped one would be.
 */
class SiteResyncTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    public record Parcel(String label, long grams) {
    }

    @TempDir
    Path dir;

    private Map<String, String> options(String localSite) {
        return SiteOptionsForTests.options(localSite, Map.of("paris", "embedded:" + dir.resolve("paris"), "tokyo", "embedded:" + dir.resolve("tokyo")));
    }

    private static boolean fault(ClusterRegistry r, String id) {
        return r.healthFaults().stream().map(HealthFault::id).anyMatch(id::equals);
    }

    @Test
    void aSiteOutOfTheOthersHistoryIsRepairedAndShippedToAgain() {
        Map<String, String> paris = options("paris");
        // paris keeps only what recovery needs: its first snapshot (after 64 KiB of log) leaves a history that starts after
        // tokyo's checkpoint (0); the next would take 64 KiB more, far more than the rest of the test writes
        paris.put("registry.feedRetention", "0ms");
        paris.put("registry.snapshotThreshold", "64KiB");
        ClusterRegistry tokyoLocked = ClusterRegistries.open("embedded:" + dir.resolve("tokyo")); // tokyo cannot be reached yet
        ClusterStoreFactory atParis = (ClusterStoreFactory) Persistence.openFactory("cluster-registry", paris);
        try {
            EntityStore<Parcel> parcels = atParis.store(Parcel.class);
            java.util.Random random = new java.util.Random(7);
            for (int i = 0; i < 80; i++) {
                byte[] noise = new byte[768]; // 1 KiB of base64 that zstd cannot shrink
                random.nextBytes(noise);
                parcels.save("p" + i, new Parcel(java.util.Base64.getEncoder().encodeToString(noise), i));
            }
            parcels.delete("p0");
            ClusterRegistry local = atParis.registry();
            await().atMost(Duration.ofSeconds(30)).until(() -> local.replayableAfter() > 0);
            tokyoLocked.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> fault(local, "site-resync-tokyo"));
            assertThat(atParis.siteLinks().links().get("tokyo").failure()).get().isInstanceOf(FeedHistoryUnavailableException.class);

            SiteReplication.Resynced resynced;
            try (SharedRegistries.Hold tokyo = SharedRegistries.hold("embedded:" + dir.resolve("tokyo"), Map.of())) {
                resynced = ClusterStoreAdmin.resync(ClusterPersistenceConfiguration.fromMap(paris), "paris", local, "tokyo", tokyo.registry());
            }
            assertThat(resynced.compared()).isEqualTo(80); // 79 values and a tombstone
            assertThat(resynced.written()).isEqualTo(80);
            assertThat(resynced.fetched()).isEqualTo(80);
            // paris's factory holds its shipper lease and computed paris's range hashes; tokyo has none open: read by the resync
            assertThat(resynced.hashedAt()).containsExactly("paris");
            await().atMost(Duration.ofSeconds(30)).until(() -> !fault(local, "site-resync-tokyo"));

            parcels.save("after", new Parcel("written after the repair", 1));
            try (StoreFactory atTokyo = Persistence.openFactory("cluster-registry", options("tokyo"))) {
                EntityStore<Parcel> there = atTokyo.store(Parcel.class);
                await().atMost(Duration.ofSeconds(30)).until(() -> there.exists("after"));
                assertThat(there.count()).isEqualTo(80);
                assertThat(there.exists("p0")).isFalse();
                assertThat(there.get("p7").orElseThrow().value()).isEqualTo(parcels.get("p7").orElseThrow().value());
            }
        } finally {
            atParis.close();
            tokyoLocked.close();
        }
    }

    /**
     * A resync from a site that holds no store under the root (a wrong registry or root) is refused
     * before anything is written: it created a store there and compared the target against nothing,
     * which with removeStale deletes every entity of the target older than the window.
     */
    @Test
    void aResyncFromASiteWithoutAStoreIsRefusedAndWritesNothing() {
        try (ClusterStoreFactory tokyo = (ClusterStoreFactory) ClusterPersistenceProvider.open(config("tokyo", CrossSiteConflicts.CONFLICT_RECORD));
             ClusterRegistry nowhere = ClusterRegistries.open("embedded:" + dir.resolve("nowhere"))) {
            tokyo.store(Parcel.class).save("t", new Parcel("kept", 1));
            ClusterPersistenceConfiguration config = config("paris", CrossSiteConflicts.CONFLICT_RECORD);
            assertThatThrownBy(() -> ClusterStoreAdmin.resync(config, CrossSiteConflicts.CONFLICT_RECORD, Duration.ofMinutes(1),
                    Duration.ofSeconds(5), Duration.ofMinutes(1), true, "paris", nowhere, "tokyo", tokyo.registry()))
                    .isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                    .hasMessageContainingAll("nothing to resync from", "site paris", "holds no store under");
            assertThat(nowhere.keyExists(config.root())).as("nothing created at the wrong site").isFalse();
            assertThat(tokyo.store(Parcel.class).exists("t")).isTrue();
        }
    }

    /** Two sites shipping nothing to each other, so that only the resync brings paris's writes to tokyo. */
    private ClusterPersistenceConfiguration config(String localSite, CrossSiteConflicts policy) {
        ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder().resourceGroupName("RG").registryKeyPath("Data")
                .site("paris", "embedded:" + dir.resolve("paris")).site("tokyo", "embedded:" + dir.resolve("tokyo"))
                .localSite(localSite).siteReplicationDelay(Duration.ZERO).crossSiteConflicts(policy);
        if (policy == CrossSiteConflicts.MERGE) {
            b.conflictResolver(Parcel.class, (id, stored, lost, expected) -> new Parcel(
                    String.join("+", new java.util.TreeSet<>(java.util.List.of(stored.value().label(), lost.label()))),
                    Math.max(stored.value().grams(), lost.grams())));
        }
        return b.build();
    }

    @ParameterizedTest
    @EnumSource(value = CrossSiteConflicts.class, names = {"CONFLICT_RECORD", "MERGE"})
    void aConflictTheResyncSettlesIsKeptAsTheCrossSitePolicySays(CrossSiteConflicts policy) {
        try (ClusterStoreFactory paris = (ClusterStoreFactory) ClusterPersistenceProvider.open(config("paris", policy));
             ClusterStoreFactory tokyo = (ClusterStoreFactory) ClusterPersistenceProvider.open(config("tokyo", policy))) {
            paris.siteLinks().hold();
            tokyo.siteLinks().hold();
            paris.store(Parcel.class).save("p", new Parcel("paris", 1));
            long now = System.currentTimeMillis();
            await().pollInterval(Duration.ofMillis(1)).until(() -> System.currentTimeMillis() > now);
            EntityStore<Parcel> atTokyo = tokyo.store(Parcel.class);
            atTokyo.save("p", new Parcel("tokyo", 2)); // concurrent with paris's, and later: it wins

            SiteReplication.Resynced resynced = ClusterStoreAdmin.resync(config("paris", policy), "paris", paris.registry(), "tokyo",
                    tokyo.registry());
            assertThat(resynced.written()).isEqualTo(1);
            assertThat(resynced.fetched()).isEqualTo(1);
            assertThat(resynced.differing()).isEqualTo(1);
            assertThat(resynced.hashedAt()).containsExactlyInAnyOrder("paris", "tokyo");
            ClusterPersistenceStore<?> store = atTokyo.unwrap(ClusterPersistenceStore.class);
            if (policy == CrossSiteConflicts.CONFLICT_RECORD) {
                assertThat(atTokyo.get("p").orElseThrow().value()).isEqualTo(new Parcel("tokyo", 2));
                assertThat(store.conflictRecords()).singleElement().satisfies(r -> {
                    assertThat(r.id()).isEqualTo("p");
                    assertThat(r.kept().site()).isEqualTo("tokyo");
                    assertThat(r.lost().site()).isEqualTo("paris");
                    assertThat(new String(r.lost().value().orElseThrow(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"paris\"");
                });
            } else {
                // the merge owed is made by tokyo's shipper-lease holder, which holds tokyo's lease although shipping is held
                await().atMost(Duration.ofSeconds(30)).until(() -> atTokyo.get("p").orElseThrow().value().equals(new Parcel("paris+tokyo", 2)));
                assertThat(store.conflictRecords()).isEmpty();
            }
        }
    }
}
