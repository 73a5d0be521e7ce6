package dev.reliablestore.cluster.micrometer;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ClusterStoreMeterBinderTest {

    record Item(String name) {
    }

    @Test
    void storeMetricsAppearAsMeters(@TempDir Path dir) {
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir).resourceGroupName("RG").registryKeyPath("Data").enableLocalCache(true).build())) {
            EntityStore<Item> items = f.store(Item.class);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            new ClusterStoreMeterBinder(items, Tags.of("node", "n1")).bindTo(meters);
            items.save("a", new Item("x".repeat(500)));
            items.get("a");
            items.get("a");
            assertThat(meters.get("reliablestore.store.writes").tags("type", "Item", "node", "n1").functionCounter().count()).isEqualTo(1);
            assertThat(meters.get("reliablestore.store.reads").functionCounter().count()).isEqualTo(2);
            assertThat(meters.get("reliablestore.store.cache.hits").functionCounter().count()).isEqualTo(2);
            assertThat(meters.get("reliablestore.store.write.latency").tag("stat", "p99").gauge().value()).isPositive();
            assertThat(meters.get("reliablestore.store.compression.ratio").gauge().value()).isLessThan(0.5);
        }
    }
}
