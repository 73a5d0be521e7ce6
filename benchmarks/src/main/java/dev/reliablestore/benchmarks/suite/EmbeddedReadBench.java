package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
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
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Reads of one entity by id from the cluster-registry provider on the embedded registry: from the
 * local cache ({@code readCached}), and through the registry and the value pipeline
 * ({@code readUncached}, cache off). Ids are picked at random among 10,000 stored entities (500 of 64 KB).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EmbeddedReadBench {

    /** A store preloaded with the dataset; its subclasses choose cache on or off. */
    @State(Scope.Benchmark)
    public abstract static class Loaded {
        /** JSON size of the entity in bytes. */
        @Param({"1024", "65536"})
        public int size;

        /** {@code plain} (JSON only) or {@code zstd+aes}. */
        @Param({"plain", "zstd+aes"})
        public String pipeline;

        /** Entities stored (at most 500 of 64 KB); reads pick one at random. */
        @Param("10000")
        public int entities;

        /** Directory for the registry (default: java.io.tmpdir). */
        @Param("")
        public String dir;

        Path root;
        EntityStore<Order> store;
        String[] ids;

        abstract boolean cache();

        @Setup(Level.Trial)
        public void open() {
            root = Stores.tempDir(dir, "read-bench");
            store = Stores.cluster("embedded:" + root.resolve("registry"), pipeline, cache(), false);
            ids = Stores.ids(Dataset.entitiesFor(size, entities));
            Dataset.load(store, ids, size);
            if (cache()) {
                for (String id : ids) {
                    store.get(id);
                }
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
            Stores.delete(root);
        }

        String anyId() {
            return ids[ThreadLocalRandom.current().nextInt(ids.length)];
        }
    }

    /** Local cache on and warm. */
    @State(Scope.Benchmark)
    public static class Cached extends Loaded {
        @Override
        boolean cache() {
            return true;
        }
    }

    /** Local cache off: every read goes to the registry and through the pipeline. */
    @State(Scope.Benchmark)
    public static class Uncached extends Loaded {
        @Override
        boolean cache() {
            return false;
        }
    }

    @Benchmark
    public Optional<Versioned<Order>> readCached(Cached s) {
        return s.store.get(s.anyId());
    }

    @Benchmark
    public Optional<Versioned<Order>> readUncached(Uncached s) {
        return s.store.get(s.anyId());
    }
}
