package dev.reliablestore.benchmarks.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Commit latency of the cluster-registry transaction participant on embedded registries (SYNC,
 * fsync'ed), beside its peer measured in the same run:
 * <ul>
 *   <li>{@code plainSave}: an ordinary conditional save of one entity (one batch) — the peer;</li>
 *   <li>{@code onePhase}: a transaction writing two entities of one store, committed in one phase
 *       (one conditional batch, no record);</li>
 *   <li>{@code twoPhase}: a transaction writing one entity in each of two stores on two registries:
 *       prepare both (record + locks, one batch each), then commit both (one batch each) — the
 *       participant side of two-phase commit, i.e. four SYNC batches. A coordinator adds its own
 *       decision log write (the local coordinator: one fsync'ed file; Narayana: its object store).</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar TxCommitBench -f 1 -wi 3 -w 1s -i 5 -r 1s}
 * ({@code -p dir=/path} puts the registries on another disk; default: java.io.tmpdir).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TxCommitBench {

    /** A small entity. */
    public record Account(String owner, long balance) {
    }

    @Param("")
    public String dir;

    private Path root;
    private StoreFactory a;
    private StoreFactory b;
    private TransactionalResource ra;
    private TransactionalResource rb;
    private EntityStore<Account> plain;
    private final AtomicLong sequence = new AtomicLong();

    @Setup
    public void open() throws IOException {
        Path parent = dir.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(dir);
        root = Files.createTempDirectory(parent, "tx-bench");
        a = open(root.resolve("a"));
        b = open(root.resolve("b"));
        ra = TransactionalResource.from(a);
        rb = TransactionalResource.from(b);
        plain = a.store("Plain", Account.class);
        plain.save("p", new Account("p", 0));
        a.store(Account.class).save("x", new Account("x", 0));
        a.store(Account.class).save("y", new Account("y", 0));
        b.store(Account.class).save("z", new Account("z", 0));
    }

    private static StoreFactory open(Path dir) {
        return Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir,
                "resourceGroupName", "Bench-RG", "registryKeyPath", "Tx", "enableLocalCache", "false"));
    }

    @TearDown
    public void close() throws IOException {
        a.close();
        b.close();
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private TransactionId nextId(String branch) {
        return TransactionId.of(4242, "bench-" + sequence.incrementAndGet(), branch);
    }

    @Benchmark
    public long plainSave() {
        long v = plain.get("p").orElseThrow().version();
        return plain.save("p", new Account("p", v), v);
    }

    @Benchmark
    public void onePhase() {
        TransactionBranch t = ra.begin(nextId("1"));
        EntityStore<Account> s = t.store(Account.class);
        s.save("x", new Account("x", sequence.get()));
        s.save("y", new Account("y", sequence.get()));
        t.commitOnePhase();
    }

    @Benchmark
    public void twoPhase() {
        TransactionId id = nextId("1");
        TransactionBranch ta = ra.begin(id);
        TransactionBranch tb = rb.begin(TransactionId.of(id.formatId(), id.globalId(), "2".getBytes()));
        ta.store(Account.class).save("x", new Account("x", sequence.get()));
        tb.store(Account.class).save("z", new Account("z", sequence.get()));
        ta.prepare();
        tb.prepare();
        ta.commit();
        tb.commit();
    }
}
