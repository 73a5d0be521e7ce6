package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ZooKeeper's request size binds before the registry's command count: a clear of more entities than
 * one request holds is split further, never refused for a batch size the caller did not choose.
 */
class ZooKeeperClearTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    @Test
    void clearingMoreEntitiesThanOneRequestHoldsRemovesThemAll() {
        String chroot = ZK.newChroot("clear");
        // the smallest request ZooKeeper allows: 2,500 deletes of these ids are far over it
        String uri = "zookeeper://" + ZK.connectString() + chroot + "?acl=open&maxRequestBytes=256KiB";
        try (StoreFactory f = ClusterStoreFactory.open(ClusterPersistenceConfiguration.builder().clusterName(uri)
                .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH).enableCompression(false).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            int count = 600;
            for (int from = 0; from < count; from += 100) {
                Map<String, Customer> batch = new LinkedHashMap<>();
                for (int i = from; i < from + 100; i++) {
                    batch.put("customer-with-a-fairly-long-id-" + i, new Customer("c" + i, "GOLD", List.of(), Instant.EPOCH, i));
                }
                s.saveBatch(batch);
            }
            assertThat(s.count()).isEqualTo(count);
            assertThat(s.clear()).isEqualTo(count);
            assertThat(s.count()).isZero();
        }
    }
}
