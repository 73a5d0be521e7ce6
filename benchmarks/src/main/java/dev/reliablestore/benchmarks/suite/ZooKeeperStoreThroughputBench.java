package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import org.apache.zookeeper.data.Stat;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Provider-level write throughput on ZooKeeper (1 or 3 servers in process): {@code store.save} of
 * 1 KB orders (zstd+aes, local cache off, SYNC) over 1,000 ids from 1 and 16 threads beside 16
 * threads of raw Curator {@code setData}; 1,000 pipelined {@code saveAsync} beside 1,000 pipelined
 * background {@code setData}; {@code saveBatch(100)} beside one save. Scores are operations per
 * second (a saveBatch(100) is one operation).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ZooKeeperStoreThroughputBench {

    static final int ENTITIES = 1_000;
    static final int PIPELINED = ZooKeeperRegistryThroughputBench.PIPELINED;
    static final int BATCH = 100;
    static final int SIZE = 1024;

    /** The provider, preloaded with 1,000 orders of 1 KB. */
    @State(Scope.Benchmark)
    public static class Provider {
        /** The local cache (the provider's default is on; off here unless asked, so the registry is measured). */
        @Param({"false"})
        public boolean cache;
        /** The value pipeline: zstd+aes (production, the suite's) or plain JSON (what the codec's CPU costs beside it). */
        @Param({Stores.ZSTD_AES})
        public String pipeline;
        EntityStore<Order> store;
        String[] ids;
        Order[] orders;
        List<Map<String, Order>> batches;

        @Setup(Level.Trial)
        @SuppressWarnings("unchecked")
        public void open(ZooKeeperBench.Ensemble e) {
            store = Stores.cluster(e.ensemble.registryUri("store-bench"), pipeline, cache, false);
            ids = Stores.ids(ENTITIES);
            Dataset.load(store, ids, SIZE);
            orders = new Order[8];
            for (int i = 0; i < orders.length; i++) {
                orders[i] = Payloads.order("V-" + i, SIZE);
            }
            batches = new ArrayList<>();
            for (int b = 0; b < ENTITIES / BATCH; b++) {
                batches.add(new LinkedHashMap<>());
                for (int i = 0; i < BATCH; i++) {
                    batches.get(b).put(ids[b * BATCH + i], orders[i & 7]);
                }
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
        }
    }

    @Benchmark
    @Threads(1)
    public long save01(Provider t) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return t.store.save(t.ids[r.nextInt(ENTITIES)], t.orders[r.nextInt(8)]);
    }

    @Benchmark
    @Threads(16)
    public long save16(Provider t) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return t.store.save(t.ids[r.nextInt(ENTITIES)], t.orders[r.nextInt(8)]);
    }

    @Benchmark
    @Threads(16)
    public Stat rawSetData16(ZooKeeperBench.Raw t) throws Exception {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return t.client.setData().forPath(t.paths[r.nextInt(ENTITIES)], t.values[r.nextInt(8)]);
    }

    @Benchmark
    @OperationsPerInvocation(PIPELINED)
    public Object saveAsync1000(Provider t) {
        CompletableFuture<?>[] all = new CompletableFuture<?>[PIPELINED];
        for (int i = 0; i < PIPELINED; i++) {
            all[i] = t.store.saveAsync(t.ids[i], t.orders[i & 7]);
        }
        return CompletableFuture.allOf(all).join();
    }

    @Benchmark
    @OperationsPerInvocation(PIPELINED)
    public Object rawAsyncSetData1000(ZooKeeperBench.Raw t) {
        return ZooKeeperRegistryThroughputBench.pipelinedSetData(t.client, t.paths, i -> t.values[i & 7]);
    }

    @Benchmark
    @Threads(1)
    public Map<String, Long> saveBatch100(Provider t) {
        return t.store.saveBatch(t.batches.get(ThreadLocalRandom.current().nextInt(t.batches.size())));
    }
}
