package dev.reliablestore.it.chaos;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.it.history.History;
import dev.reliablestore.it.history.LinearizabilityChecker;
import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import dev.reliablestore.it.history.Op;
import dev.reliablestore.it.history.Register;
import dev.reliablestore.it.history.RegisterClient;
import dev.reliablestore.it.history.Workload;
import dev.reliablestore.registry.ClusterRegistries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The provider's local cache (docs/cluster-registry-provider.md, "Local cache") in races made
 * deterministic with a {@link GatedRegistry}: the change feed held back (a slow invalidation) and a
 * reader stopped between its registry read and its cache fill. Each history is checked with the
 * {@link LinearizabilityChecker}. The disabled tests are defects found by the issue-18 history checks.
 */
class ProviderCacheDefectsTest {

    @TempDir
    Path dir;
    private GatedRegistry registry;
    private StoreFactory factory;
    private final History history = new History();
    private final Workload.Counters counters = new Workload.Counters();

    @BeforeEach
    void open() {
        registry = new GatedRegistry(ClusterRegistries.open("embedded:" + dir.resolve("registry")));
        factory = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName(registry.uri()).resourceGroupName("History-RG").registryKeyPath("Software/ReliableStore/History")
                .enableLocalCache(true).build(), registry);
    }

    @AfterEach
    void close() {
        registry.releaseFeed();
        registry.openReadGate();
        factory.close();
        registry.close();
    }

    private RegisterClient client(int id, EntityStore<Register> store) {
        return new RegisterClient(id, store, history, counters, id, RegisterClient.Mix.DEFAULT);
    }

    private void assertConsistent(ReadModel model) {
        LinearizabilityChecker.Result r = new LinearizabilityChecker(model).check(history);
        System.out.println(r.describe());
        assertThat(r.ok()).as(r.describe()).isTrue();
    }

    @Test
    void aStoreReadsItsOwnSaveWhileTheFeedIsSlow() {
        RegisterClient c = client(0, factory.store(Register.class));
        c.save("k");
        registry.holdFeed();
        c.save("k");
        c.read("k");
        registry.releaseFeed();
        assertThat(history.ops().get(2).version).isEqualTo(2);
        assertConsistent(ReadModel.LINEARIZABLE);
    }

    @Test
    void aReadAfterAnAcknowledgedDeleteDoesNotReturnTheDeletedValue() throws Exception {
        client(0, factory.store(Register.class)).save("k"); // another store writes: the shared store has nothing cached
        EntityStore<Register> shared = factory.store(Register.class);
        RegisterClient reader = client(1, shared);
        RegisterClient deleter = client(2, shared);
        registry.holdFeed();
        CompletableFuture<Void> slowRead = CompletableFuture.runAsync(() -> {
            registry.gateNextRead(Thread.currentThread());
            reader.read("k");
        });
        await().atMost(Duration.ofSeconds(30)).until(registry::gateReached);
        deleter.delete("k");                 // acknowledged: deleted
        registry.openReadGate();             // the slow read fills the cache with what it read before the delete
        slowRead.get(30, TimeUnit.SECONDS);
        deleter.read("k");                   // after its own acknowledged delete
        registry.releaseFeed();
        Op last = history.ops().get(history.ops().size() - 1);
        System.out.println("read after the acknowledged delete: " + last);
        assertConsistent(ReadModel.CACHED);
        assertConsistent(ReadModel.LINEARIZABLE);
    }

    @Test
    @Disabled("defect (cluster-registry-provider, ClusterStoreFactory.store/CachedValues): the local cache is one per store"
            + " instance (each factory.store(type) call opens its own cache and change-feed watch), not one per type as"
            + " docs/cluster-registry-provider.md says; a save acknowledged through one store is not seen by another store"
            + " of the same type of the same factory until the feed delivers it (measured up to 3 ms with 16 stores on an idle"
            + " embedded registry), and conditional saves through the lagging store fail with a conflict naming the older version")
    void twoStoresOfOneTypeFromOneFactoryReadWhatEitherAcknowledged() {
        RegisterClient writer = client(0, factory.store(Register.class));
        RegisterClient reader = client(1, factory.store(Register.class));
        writer.save("k");
        reader.read("k");                    // cached by the reader's store
        registry.holdFeed();
        writer.save("k");                    // acknowledged
        reader.read("k");
        registry.releaseFeed();
        assertConsistent(ReadModel.LINEARIZABLE);
    }
}
