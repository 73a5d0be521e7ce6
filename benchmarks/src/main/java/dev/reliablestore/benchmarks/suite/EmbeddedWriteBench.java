package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
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
import org.openjdk.jmh.annotations.Threads;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writes through the cluster-registry provider on the embedded registry: a SYNC save (fsync'ed
 * before it returns), an ASYNC save ({@code replicationMode=Asynchronous}: visible, not yet durable),
 * {@code saveBatch} of 100 entities (one atomic, fsync'ed batch), and SYNC throughput with 1, 4 and
 * 16 writer threads, where group commit lets concurrent writers share one fsync.
 *
 * <p>Each writer thread updates its own 64 entities, so threads never conflict on an id and the
 * numbers measure the storage path, not optimistic-concurrency retries.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EmbeddedWriteBench {

    static final int PER_THREAD = 64;
    static final int MAX_THREADS = 16;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** A preloaded store; subclasses choose SYNC or ASYNC replication. */
    @State(Scope.Benchmark)
    public abstract static class Writable {
        /** JSON size of the entity in bytes. */
        @Param({"1024", "65536"})
        public int size;

        /** {@code plain} (JSON only) or {@code zstd+aes}. */
        @Param({"plain", "zstd+aes"})
        public String pipeline;

        /** Directory for the registry (default: java.io.tmpdir); pick the disk to measure. */
        @Param("")
        public String dir;

        Path root;
        EntityStore<Order> store;
        Order[] orders;

        abstract boolean asynchronous();

        @Setup(Level.Trial)
        public void open() {
            root = Stores.tempDir(dir, "write-bench");
            store = Stores.cluster("embedded:" + root.resolve("registry"), pipeline, false, asynchronous());
            String[] ids = Stores.ids(PER_THREAD * MAX_THREADS);
            Dataset.load(store, ids, size);
            // a handful of distinct documents, so compression sees varied input rather than one value
            orders = new Order[8];
            for (int i = 0; i < orders.length; i++) {
                orders[i] = Payloads.order("V-" + i, size);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
            Stores.delete(root);
        }
    }

    /** replicationMode=Synchronous. */
    @State(Scope.Benchmark)
    public static class Sync extends Writable {
        @Override
        boolean asynchronous() {
            return false;
        }
    }

    /** replicationMode=Asynchronous. */
    @State(Scope.Benchmark)
    public static class Async extends Writable {
        @Override
        boolean asynchronous() {
            return true;
        }
    }

    /** One writer thread's own ids and a counter to cycle through them. */
    @State(Scope.Thread)
    public static class Writer {
        String[] ids;
        int next;

        @Setup(Level.Trial)
        public void pick() {
            int t = THREADS.getAndIncrement() % MAX_THREADS;
            ids = new String[PER_THREAD];
            for (int i = 0; i < PER_THREAD; i++) {
                ids[i] = "O-" + (t * PER_THREAD + i);
            }
        }

        String id() {
            return ids[next++ & (PER_THREAD - 1)];
        }

        Order order(Writable w) {
            return w.orders[next & (w.orders.length - 1)];
        }
    }

    /** 100 entities for {@code saveBatch}, rewritten in place on every call. */
    @State(Scope.Thread)
    public static class Batch {
        Map<String, Order> entities;

        @Setup(Level.Trial)
        public void build(Sync sync) {
            entities = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                String id = "B-" + i;
                entities.put(id, sync.orders[i & (sync.orders.length - 1)]);
            }
        }
    }

    @Benchmark
    public long saveSync(Sync s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }

    /** {@link #saveSync} in sample mode: its p50/p95/p99 beside the peers' (PeerWriteBench's *Sample). */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public long saveSyncSample(Sync s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }

    @Benchmark
    public long saveAsync(Async s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }

    @Benchmark
    public Map<String, Long> saveBatch100(Sync s, Batch b) {
        return s.store.saveBatch(b.entities);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public long syncThroughput01(Sync s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public long syncThroughput04(Sync s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(16)
    public long syncThroughput16(Sync s, Writer w) {
        return s.store.save(w.id(), w.order(s));
    }
}
