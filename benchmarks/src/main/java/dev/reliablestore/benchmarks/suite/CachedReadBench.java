package dev.reliablestore.benchmarks.suite;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A hit in the cluster-registry provider's local cache beside a bare Caffeine {@code getIfPresent},
 * in one class and one run: the same 1 KB order as {@link ImmutableOrder} (deeply immutable, so a hit
 * returns the one cached instance) and as the suite's {@link Order} (its collections are whatever the
 * codec made, so a hit decodes a fresh copy from the cached JSON). Embedded registry, cache warm,
 * ids picked at random among {@code entities}; the Caffeine cache is built as the provider's.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CachedReadBench {

    /** One factory with both stores, loaded and read once (so every entry is cached), and the bare cache. */
    @State(Scope.Benchmark)
    public static class Loaded {
        /** JSON size of the entity in bytes. */
        @Param("1024")
        public int size;

        /** {@code plain} or {@code zstd+aes}: what a miss costs; a hit never decrypts or decompresses. */
        @Param("zstd+aes")
        public String pipeline;

        /** Entities per store; reads pick one at random. */
        @Param("10000")
        public int entities;

        /** Directory for the registry (default: java.io.tmpdir). */
        @Param("")
        public String dir;

        Path root;
        StoreFactory factory;
        EntityStore<Order> mutable;
        EntityStore<ImmutableOrder> immutable;
        Cache<String, Order> caffeine;
        String[] ids;

        @Setup(Level.Trial)
        public void open() {
            root = Stores.tempDir(dir, "cached-read");
            factory = Persistence.openFactory("cluster-registry",
                    Stores.clusterOptions("embedded:" + root.resolve("registry"), pipeline, true, false));
            mutable = factory.store(Order.class);
            immutable = factory.store(ImmutableOrder.class);
            ids = Stores.ids(Dataset.entitiesFor(size, entities));
            Dataset.load(mutable, ids, size);
            Map<String, ImmutableOrder> batch = new LinkedHashMap<>();
            for (String id : ids) {
                batch.put(id, ImmutableOrder.of(Payloads.order(id, size)));
                if (batch.size() == 200) {
                    immutable.saveBatch(batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                immutable.saveBatch(batch);
            }
            caffeine = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(5)).build();
            for (String id : ids) {
                caffeine.put(id, Payloads.order(id, size));
                mutable.get(id);
                immutable.get(id); // the first hit decodes the instance every later hit returns
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            factory.close();
            Stores.delete(root);
        }

        String anyId() {
            return ids[ThreadLocalRandom.current().nextInt(ids.length)];
        }
    }

    @Benchmark
    public Optional<Versioned<ImmutableOrder>> cachedReadImmutable(Loaded s) {
        return s.immutable.get(s.anyId());
    }

    @Benchmark
    public Optional<Versioned<Order>> cachedReadMutable(Loaded s) {
        return s.mutable.get(s.anyId());
    }

    @Benchmark
    public Order caffeineGetIfPresent(Loaded s) {
        return s.caffeine.getIfPresent(s.anyId());
    }
}
