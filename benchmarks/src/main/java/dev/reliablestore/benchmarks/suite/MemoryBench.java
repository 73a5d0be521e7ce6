package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Heap bytes per stored 1 KB entity, measured as heap deltas after full GCs with
 * {@code entities} entities: held by the embedded registry (the store's cache off), and added by
 * the provider's local cache once every entity has been read through it. Reported as JMH
 * secondary results {@code registryBytesPerEntity} and {@code cacheBytesPerEntity} (the primary
 * score is just the time the measurement took).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
public class MemoryBench {

    /** {@code plain} (JSON only) or {@code zstd+aes}. */
    @Param({"plain", "zstd+aes"})
    public String pipeline;

    /** Entities stored; enough that fixed costs (dictionaries, buffers) vanish per entity. */
    @Param("20000")
    public int entities;

    /** JSON size of the entity in bytes. */
    @Param("1024")
    public int size;

    /** Directory for the registry (default: java.io.tmpdir). */
    @Param("")
    public String dir;

    /** The measured figures, reported by JMH beside the score. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Heap {
        public double registryBytesPerEntity;
        public double cacheBytesPerEntity;

        @Setup(Level.Iteration)
        public void reset() {
            registryBytesPerEntity = 0;
            cacheBytesPerEntity = 0;
        }
    }

    @Benchmark
    public void heapPerEntity(Heap heap) {
        Path root = Stores.tempDir(dir, "memory-bench");
        try {
            String uri = "embedded:" + root.resolve("registry");
            String[] ids = Stores.ids(entities);
            long empty;
            long loaded;
            // the registry: open with the cache off (so nothing but the registry keeps values), load
            EntityStore<Order> store = Stores.cluster(uri, pipeline, false, false);
            try {
                store.get("warm-up-the-classes");
                empty = usedAfterGc();
                Dataset.load(store, ids, size);
                loaded = usedAfterGc();
            } finally {
                store.close();
            }
            heap.registryBytesPerEntity = (double) (loaded - empty) / entities;
            // the cache: reopen the same data with the cache on, read everything once
            EntityStore<Order> cached = Stores.cluster(uri, pipeline, true, false);
            try {
                cached.get(ids[0]);
                long before = usedAfterGc();
                for (String id : ids) {
                    cached.get(id);
                }
                long after = usedAfterGc();
                heap.cacheBytesPerEntity = (double) (after - before) / entities;
            } finally {
                cached.close();
            }
        } finally {
            Stores.delete(root);
        }
    }

    /** Used heap after full collections have settled (G1 runs a full GC on System.gc()). */
    static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
