package dev.reliablestore.cluster.geo;

import dev.reliablestore.benchmarks.suite.Payloads;
import dev.reliablestore.benchmarks.suite.Stores;
import dev.reliablestore.cluster.ProbeArrivals;
import dev.reliablestore.cluster.SiteCodecs;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.Watch;
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

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replication lag across three embedded sites that ship to each other (issue 21's target: p99 at
 * most {@code siteReplicationDelay} + 100 ms at 1,000 writes/s): a background writer at every site
 * saves 1 KB entities (zstd + AES-GCM, stamped) at a third of {@link #WRITES_PER_SECOND} each,
 * and every sampled operation is one more save at the first site, timed from before its commit until
 * both other sites' registries hold it. Sample mode: the report reads p50 and p99.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ShipperLagBench {

    static final int WRITES_PER_SECOND = 1000;
    static final List<String> SITES = List.of("lima", "paris", "tokyo");

    /** Directory for the registries (default: java.io.tmpdir); pick the disk to measure. */
    @Param("")
    public String dir;

    /** {@code siteReplicationDelay} of every shipper, in milliseconds. */
    @Param("0")
    public int delayMillis;

    private record Site(String name, ClusterRegistry registry, EntityStates states, HybridClock clock, LocalWrites writes) {
        Site(String name, ClusterRegistry registry, EntityStates states, HybridClock clock) {
            this(name, registry, states, clock, new LocalWrites(states, clock));
        }
    }

    private Path base;
    private final Map<String, Site> sites = new ConcurrentHashMap<>();
    private final List<SiteShipper> shippers = new ArrayList<>();
    private final List<Watch> watches = new ArrayList<>();
    private final ProbeArrivals arrivals = new ProbeArrivals();
    private final AtomicLong probes = new AtomicLong();
    private ScheduledExecutorService load;
    private byte[] json;

    @Setup(Level.Trial)
    public void openSites() throws IOException {
        base = dir.isEmpty() ? Files.createTempDirectory("shipper-lag") : Files.createTempDirectory(Path.of(dir), "shipper-lag");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        KeyRing keys = KeyRing.of(Map.of("k1", new SecretKeySpec(key, "AES")), "k1");
        json = Payloads.bytes(Payloads.order("o", 1024));
        for (String name : SITES) {
            ClusterRegistry r = ClusterRegistries.open("embedded:" + base.resolve(name));
            EntityStates states = new EntityStates(ShipperBench.LAYOUT, ShipperBench.LOCKS,
                    SiteCodecs.codec(ShipperBench.LAYOUT.root().toString(), keys, name), name);
            sites.put(name, new Site(name, r, states, new HybridClock(System::currentTimeMillis, Duration.ofSeconds(5))));
        }
        for (Site from : sites.values()) {
            for (Site to : sites.values()) {
                if (from != to) {
                    SiteTranslator t = new SiteTranslator(from.states, to.registry, to.states, from.clock, c -> { });
                    shippers.add(new SiteShipper(from.registry, ShipperBench.LAYOUT.root(), from.name, to.registry, to.name,
                            ShipperBench.LEDGER, t, Duration.ofMillis(delayMillis), Duration.ofMillis(20), Duration.ofSeconds(30)));
                }
            }
            if (!from.name.equals("paris")) {
                watches.add(from.registry.watch(ShipperBench.LAYOUT.type(ShipperBench.TYPE), arrivals));
            }
        }
        load = Executors.newScheduledThreadPool(SITES.size());
        long periodMicros = 1_000_000L * SITES.size() / WRITES_PER_SECOND;
        for (Site s : sites.values()) {
            AtomicLong n = new AtomicLong();
            load.scheduleAtFixedRate(() -> save(s, "bg-" + s.name + "-" + n.incrementAndGet() % 1000), 0, periodMicros, TimeUnit.MICROSECONDS);
        }
    }

    @TearDown(Level.Trial)
    public void closeSites() throws InterruptedException {
        load.shutdownNow();
        load.awaitTermination(10, TimeUnit.SECONDS);
        watches.forEach(Watch::close);
        for (SiteShipper s : shippers) {
            s.close();
            if (s.failure() != null) {
                throw new IllegalStateException(s + " stopped", s.failure());
            }
        }
        sites.values().forEach(s -> s.registry.close());
        Stores.delete(base);
    }

    /** A save at a site, as the provider will write it there ({@link LocalWrites}: stamped after the state it replaces). */
    private void save(Site s, String id) {
        Map<String, byte[]> one = Map.of(id, json);
        LocalWrites.Reading reading = s.writes.reading(ShipperBench.TYPE, one.keySet());
        LocalWrites.Plan plan = s.writes.plan(reading, one, s.registry.read(ReadBatch.of(reading.reads())));
        WriteBatch.Builder b = WriteBatch.builder();
        plan.commands().forEach(b::add);
        s.registry.commit(b.build());
    }

    /** One save at paris, until lima and tokyo hold it. */
    @Benchmark
    public void lag() throws InterruptedException {
        String id = "probe-" + probes.incrementAndGet();
        CountDownLatch both = arrivals.expect(id, 2);
        save(sites.get("paris"), id);
        if (!both.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(id + " did not reach both other sites within 30 s");
        }
        arrivals.done(id);
    }
}
