package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.clusapi.ClusapiTestAccess;
import dev.reliablestore.registry.clusapi.FakeClusApi;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two stores on one registry (two registry clients where the backend allows it): a save whose
 * version is taken from memory (a read, the store's own last commit, the local cache) instead of a
 * fresh read must still lose exactly when another store wrote in between, on every backend.
 */
class SaveConflictAcrossStoresTest {

    private static final AtomicInteger CHROOTS = new AtomicInteger();

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    @TempDir
    static Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    /**
     * Checks at once, then every 10 ms: these conditions mostly hold already or within milliseconds, and with
     * Awaitility's default first delay of 100 ms the waits, 20 in a racing test, made most of this class's time.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    static Stream<Arguments> backends() {
        return Stream.of("embedded", "zookeeper", "clusapi").flatMap(b -> Stream.of(Arguments.of(b, false), Arguments.of(b, true)));
    }

    /** Two stores of Customer on one registry; {@code cache}: the local cache is on in both. */
    private List<EntityStore<Customer>> twoStores(String backend, boolean cache) {
        List<ClusterRegistry> registries = new ArrayList<>();
        String clusterName;
        switch (backend) {
            case "embedded" -> {
                Path d = dir.resolve("embedded-" + CHROOTS.incrementAndGet());
                clusterName = EmbeddedFixture.uri(d);
                ClusterRegistry one = ClusterRegistries.open(clusterName);
                registries.add(one);
                registries.add(one); // one process may open an embedded registry once
            }
            case "zookeeper" -> {
                clusterName = ZK.newOpenRegistryUri("conflicts");
                registries.add(ClusterRegistries.open(clusterName));
                registries.add(ClusterRegistries.open(clusterName));
            }
            case "clusapi" -> {
                FakeClusApi fake = new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2");
                URI uri = URI.create("clusapi://FAKECLUSTER/Software/Conflicts" + CHROOTS.incrementAndGet());
                clusterName = uri.toString();
                registries.add(ClusapiTestAccess.open(fake, uri, Map.of("localNode", "NODE1")));
                registries.add(ClusapiTestAccess.open(fake, uri, Map.of("localNode", "NODE2")));
            }
            default -> throw new IllegalArgumentException(backend);
        }
        registries.stream().distinct().forEach(r -> open.add(r::close));
        List<EntityStore<Customer>> stores = new ArrayList<>();
        for (ClusterRegistry r : registries) {
            ClusterStoreFactory f = ClusterStoreFactory.onRegistry(ClusterPersistenceConfiguration.builder().clusterName(clusterName)
                    .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH).enableLocalCache(cache).build(), r);
            open.add(f);
            stores.add(f.store(Customer.class));
        }
        return stores;
    }

    @ParameterizedTest(name = "{0}, cache {1}")
    @MethodSource("backends")
    void aVersionReadBeforeAnotherStoresSaveConflicts(String backend, boolean cache) {
        List<EntityStore<Customer>> s = twoStores(backend, cache);
        s.get(0).save("c", Customer.of("first", 1));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(s.get(1).get("c")).map(Versioned::version).contains(1L));
        assertThat(s.get(0).save("c", Customer.of("winner", 2), 1)).isEqualTo(2);

        assertThatThrownBy(() -> s.get(1).save("c", Customer.of("loser", 3), 1)).isInstanceOf(ConcurrencyConflictException.class);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(s.get(1).get("c")).contains(new Versioned<>("c", Customer.of("winner", 2), 2)));
        assertThat(s.get(1).save("c", Customer.of("next", 4), 2)).isEqualTo(3);
        assertThatThrownBy(() -> s.get(0).save("c", Customer.of("stale", 5), 2)).isInstanceOf(ConcurrencyConflictException.class);
    }

    @ParameterizedTest(name = "{0}, cache {1}")
    @MethodSource("backends")
    void ofTwoRacingSavesOfOneVersionExactlyOneWins(String backend, boolean cache) throws Exception {
        List<EntityStore<Customer>> s = twoStores(backend, cache);
        s.get(0).save("r", Customer.of("start", 0));
        for (int round = 1; round <= 10; round++) {
            long version = round;
            // a local cache learns of the other store's write from the change feed, a moment later
            for (EntityStore<Customer> store : s) {
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(store.get("r")).map(Versioned::version).contains(version));
            }
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Long>> saves = new ArrayList<>();
            for (EntityStore<Customer> store : s) {
                saves.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return store.save("r", Customer.of("round " + version, version), version);
                }));
            }
            go.countDown();
            int won = 0;
            int conflicts = 0;
            for (CompletableFuture<Long> f : saves) {
                try {
                    assertThat(f.join()).isEqualTo(version + 1);
                    won++;
                } catch (java.util.concurrent.CompletionException e) {
                    assertThat(e.getCause()).isInstanceOf(ConcurrencyConflictException.class);
                    conflicts++;
                }
            }
            assertThat(won).as("round %d", round).isEqualTo(1);
            assertThat(conflicts).as("round %d", round).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "{0}, cache {1}")
    @MethodSource("backends")
    void anUnconditionalSaveAfterAnotherStoresSavesStillCountsTheirVersions(String backend, boolean cache) {
        List<EntityStore<Customer>> s = twoStores(backend, cache);
        s.get(0).save("u", Customer.of("a", 1));
        assertThat(s.get(1).save("u", Customer.of("b", 2))).isEqualTo(2);
        s.get(0).save("u", Customer.of("a", 3));
        s.get(0).save("u", Customer.of("a", 4));
        assertThat(s.get(1).save("u", Customer.of("b", 5))).isEqualTo(5);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(s.get(0).get("u")).contains(new Versioned<>("u", Customer.of("b", 5), 5)));
        assertThat(s.get(0).delete("u")).isTrue();
        assertThat(s.get(1).save("u", Customer.of("b", 6))).isEqualTo(1);
    }
}
