package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistry;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two factories, each with its own cache and change-feed watch, on one registry. The embedded
 * registry's file lock allows one {@link ClusterRegistry} per directory, so both factories share
 * one registry instance through the package-private {@link ClusterStoreFactory#onRegistry} seam;
 * they share nothing else (separate stores, caches, watches, codecs).
 */
class CacheInvalidationTest {

    /**
     * Checks at once, then every 10 ms: what these tests wait for mostly holds already or within milliseconds of it,
     * and Awaitility's default first delay and interval of 100 ms made every wait last at least that long.
     */
    private static ConditionFactory await() {
        return Awaitility.await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    @TempDir
    Path dir;

    @Test
    void aWriteThroughOneFactoryInvalidatesTheOthersCache() {
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(Duration.ofHours(1)).build();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory writerFactory = ClusterStoreFactory.onRegistry(config, registry);
             StoreFactory readerFactory = ClusterStoreFactory.onRegistry(config, registry)) {
            EntityStore<Customer> writer = writerFactory.store(Customer.class);
            EntityStore<Customer> reader = readerFactory.store(Customer.class);
            writer.save("c", Customer.of("v", 0));
            assertThat(reader.get("c").orElseThrow().value().balance()).isZero();
            assertThat(reader.get("c").orElseThrow().value().balance()).isZero();
            assertThat(reader.performanceMetrics().cacheHits()).isPositive();

            int rounds = 300;
            long[] delays = new long[rounds];
            for (int i = 1; i <= rounds; i++) {
                long expected = i;
                writer.save("c", Customer.of("v", expected));
                long written = System.nanoTime();
                // read-your-writes for the writer, at once
                assertThat(writer.get("c").orElseThrow().value().balance()).isEqualTo(expected);
                // the reader's cached copy is replaced once the change feed delivers the batch
                long deadline = written + Duration.ofSeconds(10).toNanos();
                while (reader.get("c").orElseThrow().value().balance() != expected) {
                    assertThat(System.nanoTime()).as("invalidation of round %d within 10 s", i).isLessThan(deadline);
                    Thread.onSpinWait();
                }
                delays[i - 1] = System.nanoTime() - written;
                assertThat(reader.get("c").orElseThrow().version()).isEqualTo(i + 1);
            }
            Arrays.sort(delays);
            System.out.printf("cache invalidation delay over %d writes: p50 = %.1f us, p99 = %.1f us, max = %.1f us%n", rounds,
                    delays[rounds / 2] / 1e3, delays[rounds * 99 / 100] / 1e3, delays[rounds - 1] / 1e3);

            writer.delete("c");
            await().atMost(Duration.ofSeconds(10)).until(() -> reader.get("c").isEmpty());
            writer.clear();
            assertThat(reader.getAll()).isEmpty();
        }
    }

    /**
     * The feed misses a batch (its resync says so), and the registry's sequence cannot be read at
     * that moment: the cache must still forget what it held, not keep a stale entry until it expires,
     * and must come back on once the sequence can be read, though the type is not written again.
     */
    @Test
    void aResyncWhoseSequenceCannotBeReadStillEmptiesTheCache() {
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(Duration.ofHours(1)).build();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            java.util.concurrent.atomic.AtomicBoolean dropBatches = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicBoolean sequenceUnreadable = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.List<dev.reliablestore.registry.ChangeListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
            ClusterRegistry missing = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().equals("currentSequence") && sequenceUnreadable.get()) {
                            throw new dev.reliablestore.registry.RegistryException("the sequence cannot be read (test)");
                        }
                        if (method.getName().equals("watch") && args.length == 2) {
                            dev.reliablestore.registry.ChangeListener real = (dev.reliablestore.registry.ChangeListener) args[1];
                            dev.reliablestore.registry.ChangeListener lossy = new dev.reliablestore.registry.ChangeListener() {
                                @Override
                                public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                                    if (!dropBatches.get()) {
                                        real.onBatch(batch);
                                    }
                                }

                                @Override
                                public void onResync(String reason) {
                                    real.onResync(reason);
                                }
                            };
                            listeners.add(lossy);
                            args = new Object[] {args[0], lossy};
                        }
                        try {
                            return method.invoke(registry, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (StoreFactory cached = ClusterStoreFactory.onRegistry(config, missing);
                 StoreFactory other = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> reader = cached.store(Customer.class);
                EntityStore<Customer> writer = other.store(Customer.class);
                writer.save("c", Customer.of("v", 0));
                assertThat(reader.get("c").orElseThrow().value().balance()).isZero();
                assertThat(reader.get("c").orElseThrow().value().balance()).isZero();
                assertThat(reader.performanceMetrics().cacheHits()).isPositive();
                dropBatches.set(true);
                writer.save("c", Customer.of("v", 1)); // a batch the cache's feed misses
                assertThat(reader.get("c").orElseThrow().value().balance()).as("stale until the resync").isZero();
                dropBatches.set(false);
                sequenceUnreadable.set(true);
                assertThat(listeners).hasSize(1);
                try {
                    listeners.get(0).onResync("batches were missed (test)");
                } catch (RuntimeException thrown) {
                    // the feed's dispatcher logs what a listener throws and goes on: the cache is what counts
                }
                sequenceUnreadable.set(false);
                assertThat(reader.get("c").orElseThrow().value().balance()).isEqualTo(1);
                // no batch of the type arrives to end the resync: the sequence, read again, turns the cache back on
                long hits = reader.performanceMetrics().cacheHits();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertThat(reader.get("c").orElseThrow().value().balance()).isEqualTo(1);
                    assertThat(reader.performanceMetrics().cacheHits()).isGreaterThan(hits);
                });
            }
        }
    }

    @Test
    void preloadFillsTheCacheAndReadsThenHitIt() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            for (int i = 0; i < 20; i++) {
                s.save("c" + i, Customer.of("n" + i, i));
            }
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).enableLocalCache(true).preloadCache(true)
                .cacheSize(10).build())) {
            RegistryEntityStore<?> s = (RegistryEntityStore<?>) f.store(Customer.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> s.cachedEntries() <= 10);
            assertThat(s.cachedEntries()).isPositive();
            long hits = 0;
            for (int i = 0; i < 20; i++) {
                s.get("c" + i);
            }
            hits = s.performanceMetrics().cacheHits();
            assertThat(hits).isPositive();
            assertThat(s.performanceMetrics().cacheHitRatio()).isBetween(0.0, 1.0);
        }
    }
}
