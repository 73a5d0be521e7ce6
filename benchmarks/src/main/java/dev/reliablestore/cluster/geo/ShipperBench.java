package dev.reliablestore.cluster.geo;

import dev.reliablestore.benchmarks.suite.Payloads;
import dev.reliablestore.benchmarks.suite.Stores;
import dev.reliablestore.cluster.SiteCodecs;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;
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

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The geo shipper's sustained throughput between two embedded sites (issue 21's target: at least
 * 10,000 changes/s per target site): the origin holds {@link #BATCHES} batches, each a save of one
 * 1 KB entity (zstd + AES-GCM, stamped), all of them different ids; an invocation ships them all to
 * an empty target and counts one operation per change. Beside it, in the same run, the same shipper
 * copying the values as they are — what the shipping costs without opening, merging and re-sealing
 * them. (Both registries in this JVM, on the files of {@code dir}; the target commits are SYNC.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ShipperBench {

    static final int BATCHES = 4000;
    static final StorageLayout LAYOUT = new StorageLayout(RegistryPath.of("Store"));
    static final RegistryPath LOCKS = RegistryPath.of("Store", "Transactions", "Locks");
    static final RegistryPath LEDGER = RegistryPath.of("Store", "Sites", "Applied");
    static final String TYPE = "Order";

    /** Directory for the registries (default: java.io.tmpdir); pick the disk to measure. */
    @Param("")
    public String dir;

    private Path base;
    private KeyRing keys;
    private ClusterRegistry origin;
    private EntityStates originStates;
    private HybridClock clock;
    private long last;
    private Path targetDir;
    private ClusterRegistry target;
    private int invocation;

    @Setup(Level.Trial)
    public void fillOrigin() throws IOException {
        base = dir.isEmpty() ? Files.createTempDirectory("shipper-bench") : Files.createTempDirectory(Path.of(dir), "shipper-bench");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        keys = KeyRing.of(Map.of("k1", new SecretKeySpec(key, "AES")), "k1");
        origin = ClusterRegistries.open("embedded:" + base.resolve("origin"));
        originStates = new EntityStates(LAYOUT, LOCKS, SiteCodecs.codec(LAYOUT.root().toString(), keys, "paris"), "paris");
        clock = new HybridClock(System::currentTimeMillis, Duration.ofSeconds(5));
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < BATCHES; i++) {
            String id = "o" + i;
            EntityStates.Current absent = originStates.current(TYPE, id, origin.read(ReadBatch.of(originStates.reads(TYPE, id))), 0);
            List<BatchCommand> commands = new ArrayList<>();
            originStates.write(commands, TYPE, id, SiteState.write(null, Payloads.bytes(Payloads.order(id, 1024)), "paris", clock), absent);
            WriteBatch.Builder b = WriteBatch.builder();
            commands.forEach(b::add);
            pending.add(origin.commitAsync(b.build()));
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        last = origin.currentSequence();
        origin.awaitDurable();
    }

    @TearDown(Level.Trial)
    public void closeOrigin() {
        origin.close();
        Stores.delete(base);
    }

    @Setup(Level.Invocation)
    public void emptyTarget() {
        targetDir = base.resolve("target-" + invocation++);
        target = ClusterRegistries.open("embedded:" + targetDir);
    }

    @TearDown(Level.Invocation)
    public void dropTarget() {
        target.close();
        Stores.delete(targetDir);
    }

    private void shipAll(SiteShipper.Translator translator) {
        try (SiteShipper s = new SiteShipper(origin, LAYOUT.root(), "paris", target, "tokyo", LEDGER, translator, Duration.ZERO,
                Duration.ofMillis(20), Duration.ofSeconds(30))) {
            while (s.checkpoint() < last) {
                if (s.failure() != null) {
                    throw new IllegalStateException("the shipper stopped", s.failure());
                }
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /** Opened at the origin, merged with the target's state, re-sealed for the target. */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public void shipTranslated() {
        EntityStates at = new EntityStates(LAYOUT, LOCKS, SiteCodecs.codec(LAYOUT.root().toString(), keys, "tokyo"), "tokyo");
        shipAll(new SiteTranslator(originStates, target, at, clock, c -> { }));
    }

    /** The peer: the same batches copied as they are. */
    @Benchmark
    @OperationsPerInvocation(BATCHES)
    public void shipCopied() {
        shipAll(batches -> SiteShipper.replay(batches, LEDGER));
    }
}
