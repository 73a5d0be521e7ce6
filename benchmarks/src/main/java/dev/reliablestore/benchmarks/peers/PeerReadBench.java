package dev.reliablestore.benchmarks.peers;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.benchmarks.suite.Dataset;
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

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Reads by id from the alternatives, with the same dataset as the provider's read benchmarks:
 * a bare Caffeine {@code getIfPresent} of the entity object (the floor for a cached read), SQLite
 * WAL read by primary key (bytes only, and bytes plus the same Jackson decode the provider does),
 * and the project's file provider.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PeerReadBench {

    /** The dataset's ids and documents. */
    @State(Scope.Benchmark)
    public static class Data {
        /** JSON size of the entity in bytes. */
        @Param({"1024", "65536"})
        public int size;

        /** Entities stored (at most 500 of 64 KB); reads pick one at random. */
        @Param("10000")
        public int entities;

        /** Directory for the files (default: java.io.tmpdir). */
        @Param("")
        public String dir;

        Path root;
        String[] ids;

        @Setup(Level.Trial)
        public void build() {
            root = Stores.tempDir(dir, "peer-read");
            ids = Stores.ids(Dataset.entitiesFor(size, entities));
        }

        @TearDown(Level.Trial)
        public void delete() {
            Stores.delete(root);
        }

        String anyId() {
            return ids[ThreadLocalRandom.current().nextInt(ids.length)];
        }
    }

    /** A Caffeine cache configured as the provider's (size bound, expire after write), holding the entities. */
    @State(Scope.Benchmark)
    public static class Bare {
        Cache<String, Order> cache;

        @Setup(Level.Trial)
        public void fill(Data d) {
            cache = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(java.time.Duration.ofMinutes(5)).build();
            for (String id : d.ids) {
                cache.put(id, Payloads.order(id, d.size));
            }
        }
    }

    /** SQLite WAL holding the same JSON by id. */
    @State(Scope.Benchmark)
    public static class Sqlite {
        SqliteStore db;

        @Setup(Level.Trial)
        public void open(Data d) throws SQLException {
            db = new SqliteStore(d.root.resolve("read.db"), "NORMAL");
            db.load(d.ids, i -> Payloads.bytes(Payloads.order(d.ids[i], d.size)));
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            db.close();
        }
    }

    /** The project's file provider holding the same entities. */
    @State(Scope.Benchmark)
    public static class FileProvider {
        EntityStore<Order> store;

        @Setup(Level.Trial)
        public void open(Data d) {
            store = Stores.file(d.root.resolve("file-provider"));
            Dataset.load(store, d.ids, d.size);
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
        }
    }

    @Benchmark
    public Order caffeineGetIfPresent(Data d, Bare b) {
        return b.cache.getIfPresent(d.anyId());
    }

    @Benchmark
    public byte[] sqliteReadBytes(Data d, Sqlite s) throws SQLException {
        return s.db.read(d.anyId());
    }

    @Benchmark
    public Order sqliteReadById(Data d, Sqlite s) throws SQLException {
        return Payloads.read(s.db.read(d.anyId()));
    }

    @Benchmark
    public Optional<Versioned<Order>> fileProviderRead(Data d, FileProvider f) {
        return f.store.get(d.anyId());
    }
}
