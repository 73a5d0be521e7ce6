package dev.reliablestore.cluster;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import dev.reliablestore.registry.ClusterStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link ConfiguredSitesTest}'s shipping and conflicts with rome and tokyo ZooKeeper sites (each a
 * chroot of one in-process server, with a client of its own) and paris embedded: the factories open
 * other sites' ensembles from the {@code sites.<site>} URIs and ship to them.
 */
class ConfiguredSitesZooKeeperTest extends ConfiguredSitesTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    private final Map<String, String> uris = new HashMap<>();

    @TempDir
    Path keys;

    @Override
    String uri(String site) {
        return site.equals("paris") ? super.uri(site) : uris.computeIfAbsent(site, ZK::newOpenRegistryUri);
    }

    // not run again here (an override without @Test is no test): they are about the embedded sites, the keys and what
    // the factory reports, which the backend does not change

    @Override
    void aSiteThatCannotBeReachedYetDoesNotKeepTheFactoryFromOpeningAndIsShippedToWhenItIs() {
    }

    @Override
    void ofTwoFactoriesOfOneSiteOneShipsAndTheOtherTakesOverWhenItCloses() {
    }

    @Override
    void theSiteKeysAreCheckedTogether() {
    }

    @Override
    void eachSitesShippingIsPublishedAsMetersWithTheLagOfWhatWaits() {
    }

    @Override
    void preferredReadsGoToThePreferredSiteWhileItCanBeReachedAndToTheLocalSiteOtherwise() {
    }

    // conflict records and owed merges are registry values below <root>/Sites, written in the batch that settles the
    // conflict, as the shipment ledger is; the records' test passed here (5.3 s); both are left out for the CI budget
    @Override
    void withConflictRecordsEverySiteKeepsTheLosingWritesItSettledDurably() {
    }

    @Override
    void withMergeConcurrentUpdatesEndAsTheResolversMergeAtEverySite() {
    }

    /**
     * Paris's connection to the rome ensemble is a member there but never stands for rome's primary:
     * rome's backups and change-log collection run on its primary, with rome's settings. As a
     * candidate it took the role when rome's only application node closed and kept it after it came back.
     */
    @Test
    void anotherSitesConnectionNeverTakesTheSitesPrimaryRole() {
        Map<String, String> sites = Map.of("paris", super.uri("paris"), "rome", uri("rome"));
        try (StoreFactory paris = Persistence.openFactory("cluster-registry", siteOptions("paris", sites))) {
            try (StoreFactory rome = Persistence.openFactory("cluster-registry", siteOptions("rome", sites))) {
                paris.store(Parcel.class).save("p1", new Parcel("shipped", 1));
                await().atMost(Duration.ofSeconds(30)).until(() -> rome.store(Parcel.class).get("p1").isPresent()); // paris reached rome
            }
            try (StoreFactory rome = Persistence.openFactory("cluster-registry", siteOptions("rome", sites))) {
                ClusterStatus status = await().atMost(Duration.ofSeconds(30)).until(((ClusterStoreFactory) rome).registry()::status,
                        s -> s.primary().isPresent());
                assertThat(status.primary()).as("rome's primary among %s", status.nodes()).hasValue(status.localNode());
            }
        }
    }

    private Map<String, String> siteOptions(String localSite, Map<String, String> sites) {
        return SiteOptionsForTests.withKeyStore(SiteOptionsForTests.options(localSite, sites), keys);
    }
}
