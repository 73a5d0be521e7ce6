package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.benchmarks.suite.Order;
import dev.reliablestore.benchmarks.suite.Payloads;
import dev.reliablestore.benchmarks.suite.Stores;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Watch;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replication lag through the provider as users configure it (docs/geo-replication.md): three
 * embedded sites opened from the {@code sites.<site>} keys in one process, each factory's stores
 * stamping their saves (zstd + AES-GCM, 1 KB orders) and its shippers carrying them to the other
 * two. A background writer at every site saves at a third of {@link #WRITES_PER_SECOND} each; every
 * sampled operation is one more {@code save} through paris's store, timed from before the call until
 * both other sites' registries hold it. Sample mode: p50 and p99. {@code ShipperLagBench} measures
 * the shipper alone, with the writes made below the provider.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SitesLagBench {

    static final int WRITES_PER_SECOND = 1000;
    static final List<String> SITES = List.of("lima", "paris", "tokyo");

    /** Directory for the registries (default: java.io.tmpdir); pick the disk to measure. */
    @Param("")
    public String dir;

    /** {@code siteReplicationDelay}, in milliseconds. */
    @Param("0")
    public int delayMillis;

    private Path base;
    private final Map<String, StoreFactory> factories = new HashMap<>();
    private final Map<String, EntityStore<Order>> stores = new HashMap<>();
    private final List<Watch> watches = new ArrayList<>();
    private final ProbeArrivals arrivals = new ProbeArrivals();
    private final AtomicLong probes = new AtomicLong();
    private ScheduledExecutorService load;
    private Order order;

    @Setup(Level.Trial)
    public void openSites() throws IOException {
        base = dir.isEmpty() ? Files.createTempDirectory("sites-lag") : Files.createTempDirectory(Path.of(dir), "sites-lag");
        order = Payloads.order("o", 1024);
        for (String site : SITES) {
            Map<String, String> o = new HashMap<>();
            o.put("resourceGroupName", "Bench");
            o.put("registryKeyPath", "Sites");
            o.put("enableEncryption", "true");
            o.put("keyManagementService", "Passphrase");
            o.put("passphrase", "text:the benchmark's passphrase");
            o.put("localSite", site);
            o.put("siteReplicationDelay", delayMillis + "ms");
            SITES.forEach(s -> o.put("sites." + s, "embedded:" + base.resolve(s)));
            StoreFactory f = Persistence.openFactory("cluster-registry", o);
            factories.put(site, f);
            stores.put(site, f.store("Order", Order.class));
        }
        RegistryPath orders = new StorageLayout(RegistryPath.parse("Bench/Sites")).type("Order");
        for (String site : SITES) {
            if (!site.equals("paris")) {
                watches.add(((ClusterStoreFactory) factories.get(site)).registry().watch(orders, arrivals));
            }
        }
        load = Executors.newScheduledThreadPool(SITES.size());
        long periodMicros = 1_000_000L * SITES.size() / WRITES_PER_SECOND;
        for (String site : SITES) {
            AtomicLong n = new AtomicLong();
            EntityStore<Order> store = stores.get(site);
            load.scheduleAtFixedRate(() -> store.save("bg-" + site + "-" + n.incrementAndGet() % 1000, order), 0, periodMicros,
                    TimeUnit.MICROSECONDS);
        }
    }

    @TearDown(Level.Trial)
    public void closeSites() throws InterruptedException {
        load.shutdownNow();
        load.awaitTermination(10, TimeUnit.SECONDS);
        watches.forEach(Watch::close);
        for (Map.Entry<String, StoreFactory> f : factories.entrySet()) {
            ((ClusterStoreFactory) f.getValue()).siteLinks().links().forEach((to, link) -> link.failure().ifPresent(e -> {
                throw new IllegalStateException(f.getKey() + " -> " + to + " stopped", e);
            }));
        }
        factories.values().forEach(StoreFactory::close);
        Stores.delete(base);
    }

    /** One save through paris's store, until lima and tokyo hold it. */
    @Benchmark
    public void lag() throws InterruptedException {
        String id = "probe-" + probes.incrementAndGet();
        CountDownLatch both = arrivals.expect(id, 2);
        stores.get("paris").save(id, order);
        if (!both.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(id + " did not reach both other sites within 30 s");
        }
        arrivals.done(id);
    }
}
