package dev.reliablestore.benchmarks.peers;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.benchmarks.suite.Order;
import dev.reliablestore.benchmarks.suite.Payloads;
import dev.reliablestore.benchmarks.suite.Stores;
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
import org.rocksdb.RocksDBException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Durable writes of the same JSON bytes by the alternatives, on the same disk as the embedded
 * registry (the {@code dir} parameter): the physical limits (append + {@code force}, and an in-place
 * overwrite of a preallocated file + {@code force}), RocksDB with a synced WAL (1 and 16 writers), SQLite WAL with
 * synchronous=FULL and NORMAL (1 and 16 writer threads), and the project's own file provider.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PeerWriteBench {

    static final int IDS = 1024;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** The payloads and the directory. */
    @State(Scope.Benchmark)
    public static class Data {
        /** JSON size of the entity in bytes. */
        @Param({"1024", "65536"})
        public int size;

        /** Directory for the files (default: java.io.tmpdir); the same disk as the registry's. */
        @Param("")
        public String dir;

        Path root;
        Order[] orders;
        byte[][] json;

        @Setup(Level.Trial)
        public void build() {
            root = Stores.tempDir(dir, "peer-write");
            orders = new Order[8];
            json = new byte[8][];
            for (int i = 0; i < orders.length; i++) {
                orders[i] = Payloads.order("V-" + i, size);
                json[i] = Payloads.bytes(orders[i]);
            }
        }

        @TearDown(Level.Trial)
        public void delete() {
            Stores.delete(root);
        }
    }

    /** An append-only file, forced after every record: one durable write at the disk's cost. */
    @State(Scope.Benchmark)
    public static class Append {
        FileChannel channel;
        ByteBuffer[] records;

        @Setup(Level.Trial)
        public void open(Data d) throws IOException {
            channel = FileChannel.open(d.root.resolve("append.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            records = new ByteBuffer[d.json.length];
            for (int i = 0; i < records.length; i++) {
                records[i] = ByteBuffer.allocateDirect(d.json[i].length).put(d.json[i]);
            }
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * A preallocated file overwritten in place, forced after every record: fdatasync with no size
     * change (data only, no metadata write), the limit for a log whose segments are preallocated.
     */
    @State(Scope.Benchmark)
    public static class Overwrite {
        static final long FILE_BYTES = 4L << 20;
        FileChannel channel;
        ByteBuffer[] records;
        long position;

        @Setup(Level.Trial)
        public void open(Data d) throws IOException {
            channel = FileChannel.open(d.root.resolve("overwrite.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long p = 0; p < FILE_BYTES; p += zeros.capacity()) {
                zeros.clear();
                while (zeros.hasRemaining()) {
                    channel.write(zeros, p + zeros.position());
                }
            }
            channel.force(true);
            records = new ByteBuffer[d.json.length];
            for (int i = 0; i < records.length; i++) {
                records[i] = ByteBuffer.allocateDirect(d.json[i].length).put(d.json[i]);
            }
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            channel.close();
        }
    }

    /** SQLite WAL, synchronous=FULL: fsync at every commit. */
    @State(Scope.Benchmark)
    public static class SqliteFull {
        SqliteStore db;

        @Setup(Level.Trial)
        public void open(Data d) throws SQLException {
            db = new SqliteStore(d.root.resolve("full.db"), "FULL");
            db.load(ids(), i -> d.json[i & 7]);
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            db.close();
        }
    }

    /** RocksDB with its WAL synced at every put ({@code WriteOptions.setSync(true)}). */
    @State(Scope.Benchmark)
    public static class Rocks {
        RocksStore db;

        @Setup(Level.Trial)
        public void open(Data d) throws RocksDBException {
            db = new RocksStore(d.root.resolve("rocksdb"));
            for (int i = 0; i < IDS; i++) {
                db.load("O-" + i, d.json[i & 7]);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            db.close();
        }
    }

    /** SQLite WAL, synchronous=NORMAL: not durable at return. */
    @State(Scope.Benchmark)
    public static class SqliteNormal {
        SqliteStore db;

        @Setup(Level.Trial)
        public void open(Data d) throws SQLException {
            db = new SqliteStore(d.root.resolve("normal.db"), "NORMAL");
            db.load(ids(), i -> d.json[i & 7]);
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            db.close();
        }
    }

    /** The project's file provider (one fsync'ed file per entity). */
    @State(Scope.Benchmark)
    public static class FileProvider {
        EntityStore<Order> store;

        @Setup(Level.Trial)
        public void open(Data d) {
            store = Stores.file(d.root.resolve("file-provider"));
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
        }
    }

    /** The preloaded ids, {@code O-0 .. O-1023}. */
    static String[] ids() {
        String[] ids = new String[IDS];
        for (int i = 0; i < IDS; i++) {
            ids[i] = "O-" + i;
        }
        return ids;
    }

    /** One writer thread's ids, as in the provider's write benchmarks (64 per thread). */
    @State(Scope.Thread)
    public static class Writer {
        int base;
        int next;

        @Setup(Level.Trial)
        public void pick() {
            base = (THREADS.getAndIncrement() % 16) * 64;
        }

        String id() {
            return "O-" + (base + (next++ & 63));
        }
    }

    @Benchmark
    public int fsyncAppend(Data d, Append a, Writer w) throws IOException {
        ByteBuffer r = a.records[w.next++ & 7];
        r.clear();
        int n = 0;
        while (r.hasRemaining()) {
            n += a.channel.write(r);
        }
        a.channel.force(false);
        return n;
    }

    @Benchmark
    public int fsyncOverwrite(Data d, Overwrite o, Writer w) throws IOException {
        ByteBuffer r = o.records[w.next++ & 7];
        r.clear();
        if (o.position + r.remaining() > Overwrite.FILE_BYTES) {
            o.position = 0;
        }
        int n = 0;
        while (r.hasRemaining()) {
            n += o.channel.write(r, o.position + n);
        }
        o.position += n;
        o.channel.force(false);
        return n;
    }

    @Benchmark
    public void sqliteFullUpsert(Data d, SqliteFull s, Writer w) throws SQLException {
        s.db.upsert(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    public void sqliteNormalUpsert(Data d, SqliteNormal s, Writer w) throws SQLException {
        s.db.upsert(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    public long fileProviderSave(Data d, FileProvider f, Writer w) {
        return f.store.save(w.id(), d.orders[w.next & 7]);
    }

    @Benchmark
    public void rocksdbSyncPut(Data d, Rocks r, Writer w) throws RocksDBException {
        r.db.put(w.id(), d.json[w.next & 7]);
    }

    // ---- sample mode (p50/p95/p99) of the single-writer rows --------------------------------------

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int fsyncAppendSample(Data d, Append a, Writer w) throws IOException {
        return fsyncAppend(d, a, w);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public int fsyncOverwriteSample(Data d, Overwrite o, Writer w) throws IOException {
        return fsyncOverwrite(d, o, w);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public void sqliteFullSample(Data d, SqliteFull s, Writer w) throws SQLException {
        s.db.upsert(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public void rocksdbSyncSample(Data d, Rocks r, Writer w) throws RocksDBException {
        r.db.put(w.id(), d.json[w.next & 7]);
    }

    // ---- throughput ----------------------------------------------------------------------------------

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public void rocksdbSyncThroughput01(Data d, Rocks r, Writer w) throws RocksDBException {
        r.db.put(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(16)
    public void rocksdbSyncThroughput16(Data d, Rocks r, Writer w) throws RocksDBException {
        r.db.put(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public void sqliteFullThroughput01(Data d, SqliteFull s, Writer w) throws SQLException {
        s.db.upsert(w.id(), d.json[w.next & 7]);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(16)
    public void sqliteFullThroughput16(Data d, SqliteFull s, Writer w) throws SQLException {
        s.db.upsert(w.id(), d.json[w.next & 7]);
    }
}
