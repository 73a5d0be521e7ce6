package dev.reliablestore.benchmarks.provider;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.cluster.ReplicationMode;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The seed's latency table for the cluster-registry provider on the embedded registry, one thread,
 * a ~1 KB order entity. Seed targets: cached read &lt; 0.1 ms, cluster read 1–5 ms, sync write
 * 10–20 ms, async write 2–5 ms, batch of 100 100–200 ms. Our targets: uncached read (compression +
 * encryption) ≤ 20 µs, ASYNC save ≤ 20 µs, batch(100) ≤ 5 × one SYNC save.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ClusterStoreBench {

    private ProviderFixture cachedFixture;
    private ProviderFixture uncachedFixture;
    private ProviderFixture syncFixture;
    private ProviderFixture asyncFixture;
    private EntityStore<Order> cached;
    private EntityStore<Order> uncached;
    private EntityStore<Order> sync;
    private EntityStore<Order> async;
    private Map<String, Order> hundred;
    private Order order;
    private int n;

    @Setup(Level.Trial)
    public void open() {
        order = Order.sample(1);
        cachedFixture = new ProviderFixture(ReplicationMode.SYNCHRONOUS, true, true);
        uncachedFixture = new ProviderFixture(ReplicationMode.SYNCHRONOUS, false, true);
        syncFixture = new ProviderFixture(ReplicationMode.SYNCHRONOUS, false, true);
        asyncFixture = new ProviderFixture(ReplicationMode.ASYNCHRONOUS, false, true);
        cached = cachedFixture.factory.store(Order.class);
        uncached = uncachedFixture.factory.store(Order.class);
        sync = syncFixture.factory.store(Order.class);
        async = asyncFixture.factory.store(Order.class);
        cached.save("hot", order);
        uncached.save("hot", order);
        hundred = new LinkedHashMap<>();
        for (int i = 0; i < 100; i++) {
            hundred.put("batch-" + i, Order.sample(i));
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        cachedFixture.close();
        uncachedFixture.close();
        syncFixture.close();
        asyncFixture.close();
    }

    /** Seed: &lt; 0.1 ms (from the local cache). */
    @Benchmark
    public Optional<?> cachedRead() {
        return cached.get("hot");
    }

    /** Seed: 1–5 ms (from the registry); ours: ≤ 20 µs with compression and encryption. */
    @Benchmark
    public Optional<?> uncachedRead() {
        return uncached.get("hot");
    }

    /** Seed: 10–20 ms (all nodes acknowledge); embedded: one fsync. */
    @Benchmark
    public long syncSave() {
        return sync.save("k" + (n++ & 1023), order);
    }

    /** Seed: 2–5 ms (primary only); ours: ≤ 20 µs. */
    @Benchmark
    public long asyncSave() {
        return async.save("k" + (n++ & 1023), order);
    }

    /** Seed: 100–200 ms for 100 items; ours: ≤ 5 × syncSave. */
    @Benchmark
    public Map<String, Long> syncSaveBatch100() {
        return sync.saveBatch(hundred);
    }
}
