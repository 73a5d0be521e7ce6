package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.ValueCodec;
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
import java.util.concurrent.TimeUnit;

/**
 * The provider's value pipeline alone (entity → JSON → zstd → AES-256-GCM → envelope and back),
 * without the registry: what every uncached read and every write pays on top of storage.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CodecBench {

    /** JSON size of the entity in bytes. */
    @Param({"1024", "65536"})
    public int size;

    /** {@code plain} (JSON only) or {@code zstd+aes}. */
    @Param({"plain", "zstd+aes"})
    public String pipeline;

    @Param("")
    public String dir;

    private Path root;
    private EntityStore<Order> store;
    private ValueCodec<Order> codec;
    private Order order;
    private byte[] stored;

    @Setup(Level.Trial)
    public void open() {
        root = Stores.tempDir(dir, "codec-bench");
        store = Stores.cluster("embedded:" + root.resolve("registry"), pipeline, false, false);
        // a few hundred saves so that the per-type compression dictionary is trained as in production
        Dataset.load(store, Stores.ids(1_000), Math.min(size, 4096));
        @SuppressWarnings("unchecked")
        ClusterPersistenceStore<Order> cluster = store.unwrap(ClusterPersistenceStore.class);
        codec = cluster.codec();
        order = Payloads.order("O-1", size);
        stored = codec.encode("O-1", 7, order);
    }

    @TearDown(Level.Trial)
    public void close() {
        store.close();
        Stores.delete(root);
    }

    @Benchmark
    public byte[] encode() {
        return codec.encode("O-1", 7, order);
    }

    @Benchmark
    public Order decode() {
        return codec.decode("O-1", 7, stored);
    }
}
