package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link StoresAtTwoSitesTest} with tokyo a ZooKeeper site (one in-process server): the stamped
 * writes' conditions (version record, tombstone, lock) as the ZooKeeper backend checks them.
 */
class StoresAtTwoSitesZooKeeperTest extends StoresAtTwoSitesTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    @Override
    String uri(String site) {
        return site.equals("tokyo") ? ZK.newOpenRegistryUri(site) : super.uri(site);
    }
}
