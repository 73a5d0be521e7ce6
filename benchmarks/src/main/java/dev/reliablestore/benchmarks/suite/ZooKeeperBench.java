package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.data.Stat;
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

import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cluster-registry provider on a ZooKeeper ensemble (1 or 3 servers, in process, started by the
 * setup) beside raw Curator {@code getData}/{@code setData} of the same JSON bytes on an ensemble
 * of the same shape: the provider's overhead over ZooKeeper itself.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ZooKeeperBench {

    static final int ENTITIES = 1_000;
    static final int SIZE = 1024;

    /** The ensemble; shared by the provider and the raw client of one trial. */
    @State(Scope.Benchmark)
    public static class Ensemble {
        /** Servers in the ensemble: 1 or 3. */
        @Param({"1", "3"})
        public int nodes;

        ZooKeeperEnsemble ensemble;

        @Setup(Level.Trial)
        public void start() {
            ensemble = ZooKeeperEnsemble.start(nodes);
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            ensemble.close();
        }
    }

    /** The provider over the ensemble, cache off, preloaded with 1,000 orders of 1 KB. */
    @State(Scope.Benchmark)
    public static class Provider {
        /** {@code plain} (JSON only) or {@code zstd+aes}. */
        @Param({"zstd+aes"})
        public String pipeline;

        EntityStore<Order> store;
        String[] ids;
        Order[] orders;
        int next;

        @Setup(Level.Trial)
        public void open(Ensemble e) {
            store = Stores.cluster(e.ensemble.registryUri("bench"), pipeline, false, false);
            ids = Stores.ids(ENTITIES);
            Dataset.load(store, ids, SIZE);
            orders = new Order[8];
            for (int i = 0; i < orders.length; i++) {
                orders[i] = Payloads.order("V-" + i, SIZE);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
        }
    }

    /** A raw Curator client with 1,000 znodes holding the same JSON. */
    @State(Scope.Benchmark)
    public static class Raw {
        CuratorFramework client;
        String[] paths;
        byte[][] values;
        int next;

        @Setup(Level.Trial)
        public void open(Ensemble e) throws Exception {
            client = CuratorFrameworkFactory.newClient(e.ensemble.connectString(), new RetryOneTime(100));
            client.start();
            client.blockUntilConnected();
            paths = new String[ENTITIES];
            values = new byte[8][];
            for (int i = 0; i < values.length; i++) {
                values[i] = Payloads.bytes(Payloads.order("V-" + i, SIZE));
            }
            for (int i = 0; i < ENTITIES; i++) {
                paths[i] = "/raw/O-" + i;
                client.create().creatingParentsIfNeeded().forPath(paths[i], values[i & 7]);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            client.close();
        }
    }

    @Benchmark
    public Optional<Versioned<Order>> readUncached(Provider p) {
        return p.store.get(p.ids[ThreadLocalRandom.current().nextInt(ENTITIES)]);
    }

    @Benchmark
    public long saveSync(Provider p) {
        int i = p.next++;
        return p.store.save(p.ids[i % ENTITIES], p.orders[i & 7]);
    }

    @Benchmark
    public byte[] rawGetData(Raw r) throws Exception {
        return r.client.getData().forPath(r.paths[ThreadLocalRandom.current().nextInt(ENTITIES)]);
    }

    @Benchmark
    public Stat rawSetData(Raw r) throws Exception {
        int i = r.next++;
        return r.client.setData().forPath(r.paths[i % ENTITIES], r.values[i & 7]);
    }
}
