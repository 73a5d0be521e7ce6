package dev.reliablestore.cluster;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ConfiguredSitesTest.Parcel;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Preferred reads when the preferred site goes away after it answered: its ZooKeeper server stops,
 * the next read finds it unreachable within the failover timeout and is answered by the local site,
 * as are the reads after it; once the server is back, the preferred site answers again.
 */
class PreferredSiteZooKeeperTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @RegisterExtension
    static final InProcessZooKeeper TOKYO_ZK = new InProcessZooKeeper();

    @TempDir
    Path dir;
    private final List<StoreFactory> factories = new ArrayList<>();

    @AfterEach
    void closeAll() {
        factories.forEach(StoreFactory::close);
    }

    private Map<String, String> options(String localSite, String tokyoUri) {
        Map<String, String> o = SiteOptionsForTests.options(localSite, Map.of("paris", "embedded:" + dir.resolve("paris"), "tokyo", tokyoUri));
        o.put("failoverTimeout", "1s");
        return o;
    }

    private StoreFactory open(Map<String, String> options) {
        StoreFactory f = Persistence.openFactory("cluster-registry", options);
        factories.add(f);
        ((ClusterStoreFactory) f).siteLinks().hold(); // nothing is shipped: what each site holds shows which one answered
        return f;
    }

    @Test
    void readsFallBackToTheLocalSiteWhileThePreferredSiteIsDownAndGoBackWhenItReturns() throws Exception {
        String tokyoUri = TOKYO_ZK.newOpenRegistryUri("tokyo");
        StoreFactory tokyo = open(options("tokyo", tokyoUri));
        tokyo.store(Parcel.class).save("t1", new Parcel("at tokyo", 1));
        Map<String, String> o = options("paris", tokyoUri);
        o.put("preferredSite", "tokyo");
        StoreFactory paris = open(o);
        paris.store(Parcel.class).save("p1", new Parcel("at paris", 2));
        ClusterPersistenceStore<?> store = paris.store(Parcel.class).unwrap(ClusterPersistenceStore.class);
        @SuppressWarnings("unchecked")
        PreferredReads<Parcel> reads = (PreferredReads<Parcel>) store.preferredReads();
        await().atMost(Duration.ofSeconds(30)).until(() -> reads.site().equals(Optional.of("tokyo")));
        assertThat(reads.get("t1")).hasValue(new Parcel("at tokyo", 1));

        TOKYO_ZK.stop();
        try {
            // one attempt, bounded by the failover timeout, then paris answers (it holds no t1, but p1)
            assertThat(reads.get("t1")).isEmpty();
            assertThat(reads.site()).hasValue("paris");
            assertThat(reads.getAll()).containsExactly(new Parcel("at paris", 2));
        } finally {
            TOKYO_ZK.restart();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(reads.get("t1")).hasValue(new Parcel("at tokyo", 1));
            assertThat(reads.site()).hasValue("tokyo");
        });
    }

    /** A bad id is refused before any I/O with the store's own InvalidIdException, whichever site would answer. */
    @Test
    void badIdsAreRefusedAsTheStoreRefusesThemWhileThePreferredSiteAnswers() {
        String tokyoUri = TOKYO_ZK.newOpenRegistryUri("tokyo-ids");
        open(options("tokyo", tokyoUri));
        Map<String, String> o = options("paris", tokyoUri);
        o.put("preferredSite", "tokyo");
        StoreFactory paris = open(o);
        ClusterPersistenceStore<?> store = paris.store(Parcel.class).unwrap(ClusterPersistenceStore.class);
        @SuppressWarnings("unchecked")
        PreferredReads<Parcel> reads = (PreferredReads<Parcel>) store.preferredReads();
        await().atMost(Duration.ofSeconds(30)).until(() -> reads.site().equals(Optional.of("tokyo")));
        String tooLong = "x".repeat(300);
        for (String bad : java.util.Arrays.asList("", tooLong, null)) {
            assertThatThrownBy(() -> reads.get(bad)).isInstanceOf(dev.reliablestore.api.InvalidIdException.class);
            assertThatThrownBy(() -> reads.exists(bad)).isInstanceOf(dev.reliablestore.api.InvalidIdException.class);
            assertThatThrownBy(() -> reads.getMany(java.util.Arrays.asList("ok", bad)))
                    .isInstanceOf(dev.reliablestore.api.InvalidIdException.class);
            assertThatThrownBy(() -> paris.store(Parcel.class).get(bad)).isInstanceOf(dev.reliablestore.api.InvalidIdException.class);
        }
    }
}
