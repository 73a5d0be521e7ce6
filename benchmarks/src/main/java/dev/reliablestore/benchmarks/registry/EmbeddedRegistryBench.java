package dev.reliablestore.benchmarks.registry;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
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

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The embedded registry beside the physical limit of the same disk, in the same run:
 * <ul>
 *   <li>{@code syncCommit} (one 1 KB value, SYNC) against {@code rawAppendForce} (a 1 KB append and
 *       {@code force(false)} in the same directory);</li>
 *   <li>{@code groupCommit01}/{@code groupCommit16}: SYNC throughput with 1 and 16 writer threads;</li>
 *   <li>{@code asyncCommit}: ASYNC commit until it returns (not until durable);</li>
 *   <li>{@code asyncUntilDurable}: ASYNC commit until its future completes (the loss window actually seen);</li>
 *   <li>{@code read1KB}: one 1 KB value from a tree of 10,000 keys.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar EmbeddedRegistryBench -f 1 -wi 3 -w 1s -i 5 -r 1s}
 * ({@code -p dir=/path} puts the files on another disk; default: java.io.tmpdir;
 * {@code -p groupCommit=leader,writer} compares the two group-commit strategies).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EmbeddedRegistryBench {

    private static final int KEYS = 10_000;

    @Param("")
    public String dir;

    /** The embedded backend's groupCommit option: leader (leader/follower) or writer (dedicated thread). */
    @Param("leader")
    public String groupCommit;

    private Path root;
    private ClusterRegistry registry;
    private FileChannel raw;
    private RegistryValue value;
    private ByteBuffer rawRecord;
    private RegistryPath[] keys;

    @Setup(Level.Trial)
    public void open() throws IOException {
        Path base = dir.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(dir);
        root = Files.createTempDirectory(base, "registry-bench");
        registry = ClusterRegistries.open("embedded:" + root.resolve("registry"), Map.of("groupCommit", groupCommit));
        byte[] data = new byte[1024];
        ThreadLocalRandom.current().nextBytes(data);
        value = RegistryValue.binary(data);
        keys = new RegistryPath[KEYS];
        WriteBatch.Builder b = WriteBatch.builder();
        for (int i = 0; i < KEYS; i++) {
            keys[i] = RegistryPath.of("Entities", "Customer", "C-" + i);
            b.setValue(keys[i], "data", value);
            if (b.size() == 1000) {
                registry.commit(b.build());
                b = WriteBatch.builder();
            }
        }
        raw = FileChannel.open(root.resolve("raw-append.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        // the same bytes a 1 KB SYNC batch puts in the log: value, path, name and framing (~1.1 KB)
        rawRecord = ByteBuffer.allocateDirect(1024 + 64);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        registry.close();
        raw.close();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private RegistryPath anyKey() {
        return keys[ThreadLocalRandom.current().nextInt(KEYS)];
    }

    @Benchmark
    public void rawAppendForce() throws IOException {
        rawRecord.clear();
        while (rawRecord.hasRemaining()) {
            raw.write(rawRecord);
        }
        raw.force(false);
    }

    @Benchmark
    public CommitResult syncCommit() {
        return registry.commit(WriteBatch.builder().setValue(anyKey(), "data", value).build());
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public CommitResult groupCommit01() {
        return registry.commit(WriteBatch.builder().setValue(anyKey(), "data", value).build());
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(16)
    public CommitResult groupCommit16() {
        return registry.commit(WriteBatch.builder().setValue(anyKey(), "data", value).build());
    }

    @Benchmark
    public CompletableFuture<CommitResult> asyncCommit() {
        return registry.commitAsync(WriteBatch.builder().setValue(anyKey(), "data", value).build());
    }

    /** ASYNC commit until its future completes, i.e. until durable: the window an ASYNC batch could be lost in. */
    @Benchmark
    public CommitResult asyncUntilDurable() {
        return registry.commitAsync(WriteBatch.builder().setValue(anyKey(), "data", value).build()).join();
    }

    @Benchmark
    public Optional<VersionedValue> read1KB() {
        return registry.getValue(anyKey(), "data");
    }
}
