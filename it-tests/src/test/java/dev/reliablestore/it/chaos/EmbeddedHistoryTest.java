package dev.reliablestore.it.chaos;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.history.LinearizabilityChecker;
import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import dev.reliablestore.it.history.Register;
import dev.reliablestore.it.history.RegisterClient;
import dev.reliablestore.it.history.Workload;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scenario 6 of issue 18: the embedded backend under heavy concurrency, in process. Sixteen client
 * threads in four groups of four, each group on its own three keys (at most four clients per key),
 * random reads, compare-and-set saves, unconditional saves and deletes; the history is checked per key.
 *
 * Every client takes its own store from the factory ({@code factory.store(Register.class)}).
 *
 * <ul>
 *   <li>{@code UNCACHED}: one factory, no cache — every operation linearizable.</li>
 *   <li>{@code CACHED}: two factories on one registry with the local cache, clients alternating between
 *       them — writes linearizable, observations under {@link ReadModel#CACHED}: each store's cache
 *       (one per store instance, not per type: see docs/reliability.md) may lag other stores' writes by
 *       the invalidation delay, never its own writes, and its reads never go back.</li>
 * </ul>
 */
class EmbeddedHistoryTest {

    enum Variant {
        UNCACHED(false, false, ReadModel.LINEARIZABLE),
        CACHED(true, true, ReadModel.CACHED);

        final boolean cache;
        final boolean twoFactories;
        final ReadModel model;

        Variant(boolean cache, boolean twoFactories, ReadModel model) {
            this.cache = cache;
            this.twoFactories = twoFactories;
            this.model = model;
        }
    }

    private static final int GROUPS = 4;
    private static final int CLIENTS_PER_GROUP = 4;
    private static final int KEYS_PER_GROUP = 3;
    /** Acknowledged writes per cycle: the short form is one cycle. */
    private static final int WRITES_PER_CYCLE = 10_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Variant.class)
    void theHistoryOfSixteenClientsIsConsistent(Variant variant) throws Exception {
        ClusterPersistenceConfiguration config = ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir.resolve("registry")).resourceGroupName("History-RG")
                .registryKeyPath("Software/ReliableStore/History").enableLocalCache(variant.cache).build();
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"));
             StoreFactory a = ClusterPersistenceProvider.open(config, registry);
             StoreFactory b = ClusterPersistenceProvider.open(config, registry);
             Workload w = new Workload("embedded " + variant, variant.ordinal())) {
            for (int g = 0; g < GROUPS; g++) {
                for (int c = 0; c < CLIENTS_PER_GROUP; c++) {
                    StoreFactory f = variant.twoFactories && c % 2 == 1 ? b : a;
                    w.client(f.store(Register.class), Chaos.keys(g, 0, KEYS_PER_GROUP), RegisterClient.Mix.DEFAULT);
                }
            }
            long start = System.nanoTime();
            w.start();
            int epoch = 0;
            do {
                long target = w.acknowledged() + WRITES_PER_CYCLE;
                await().atMost(Duration.ofSeconds(120)).until(() -> w.acknowledged() >= target || w.failed() > 0);
                int e = ++epoch;
                w.keys(i -> Chaos.keys(i / CLIENTS_PER_GROUP, e, KEYS_PER_GROUP));
            } while (Chaos.anotherCycle(start));
            w.stop();
            Workload.Figures f = w.check(new LinearizabilityChecker(variant.model));
            System.out.println(f);
            assertThat(f.check().ok()).as(f.check().describe()).isTrue();
            assertThat(f.failed() + f.unknown()).as("failed operations without faults: %s", w.firstErrors()).isZero();
        }
    }
}
