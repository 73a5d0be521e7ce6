package dev.reliablestore.benchmarks.suite;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDictCompress;
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

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * A 1 KB order compressed with a trained dictionary the way the provider does (level 3, checksum,
 * content size), with the CPU caches cleared before each call as a save's fsync or ZooKeeper round
 * trip clears them. zstd sizes a dictionary's match tables by the dictionary's size plus 500
 * bytes: up to 16 KiB it picks the small-input row (192 KiB of tables at level 3), above it the
 * next one (768 KiB), and a cold compression pays for the misses. Not in the suite's plan: run it
 * by name ({@code java -jar benchmarks/target/benchmarks.jar DictionaryTablesBench}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DictionaryTablesBench {

    /** Capacity given to dictionary training, in bytes (the provider's is 15360). */
    @Param({"15360", "16384"})
    public int dictionaryBytes;

    private final byte[][] orders = new byte[512][];
    private final byte[] evict = new byte[8 << 20];
    private ZstdCompressCtx ctx;
    private ZstdDictCompress dictionary;
    private int next;

    @Setup
    public void setUp() {
        for (int i = 0; i < orders.length; i++) {
            orders[i] = Payloads.bytes(Payloads.order("order-" + i, 1024));
        }
        byte[] buffer = new byte[dictionaryBytes];
        long size = Zstd.trainFromBuffer(Arrays.copyOf(orders, 256), buffer);
        if (Zstd.isError(size)) {
            throw new IllegalStateException("training failed: " + Zstd.getErrorName(size));
        }
        dictionary = new ZstdDictCompress(Arrays.copyOf(buffer, (int) size), 3);
        ctx = new ZstdCompressCtx().setLevel(3).setChecksum(true).setContentSize(true);
        ctx.loadDict(dictionary);
    }

    /** Touches 8 MiB, more than this machine's caches, so the call below starts cold (not timed). */
    @Setup(Level.Invocation)
    public void clearCaches() {
        for (int i = 0; i < evict.length; i += 64) {
            evict[i]++;
        }
    }

    @Benchmark
    public byte[] compressCold() {
        // the orders the dictionary was not trained on, as a store's later saves
        byte[] in = orders[256 + (next++ & 255)];
        return ctx.compress(in);
    }

    @TearDown
    public void tearDown() {
        ctx.close();
        dictionary.close();
    }
}
