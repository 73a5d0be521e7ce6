package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.benchmarks.peers.Peers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Durable writes per second with 1 and 16 writer threads — the embedded store (SYNC saves, both
 * pipelines), SQLite WAL FULL and RocksDB with a synced WAL — in alternating rounds of equal length,
 * so a change of machine load hits every row alike (the JMH throughput rows run one after another).
 * Each writer updates its own 64 ids.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.reliablestore.benchmarks.suite.WriterScaling [seconds per row] [rounds] [dir]</pre>
 */
public final class WriterScaling {

    private WriterScaling() {
    }

    /** One thing to write to. */
    interface Target {
        void write(int thread, int n) throws Exception;

        void close() throws Exception;
    }

    record Row(String name, int threads, Target target, List<Double> rates) {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String dir = args.length > 2 ? args[2] : "";
        List<Path> roots = new ArrayList<>();
        byte[][] json = new byte[8][];
        Order[] orders = new Order[8];
        for (int i = 0; i < 8; i++) {
            orders[i] = Payloads.order("V-" + i, 1024);
            json[i] = Payloads.bytes(orders[i]);
        }
        List<Target> targets = new ArrayList<>();
        for (String pipeline : new String[]{Stores.ZSTD_AES, Stores.PLAIN}) {
            Path root = Stores.tempDir(dir, "writer-scaling");
            roots.add(root);
            Map<String, String> o = Stores.clusterOptions("embedded:" + root.resolve("registry"), pipeline, false, false);
            EntityStore<Order> store = Persistence.open("cluster-registry", o, Order.class);
            Dataset.load(store, Stores.ids(64 * 16), 1024);
            targets.add(new Target() {
                @Override
                public void write(int thread, int n) {
                    store.save("O-" + (thread * 64 + (n & 63)), orders[n & 7]);
                }

                @Override
                public void close() {
                    store.close();
                }
            });
        }
        for (boolean sqlite : new boolean[]{true, false}) {
            Path root = Stores.tempDir(dir, "writer-scaling-peer");
            roots.add(root);
            Peers.DurableWriter w = sqlite ? Peers.sqliteFull(root) : Peers.rocksdbSync(root);
            targets.add(new Target() {
                @Override
                public void write(int thread, int n) throws Exception {
                    w.put("O-" + (thread * 64 + (n & 63)), json[n & 7]);
                }

                @Override
                public void close() throws Exception {
                    w.close();
                }
            });
        }
        String[] names = {"embedded SYNC save, zstd+aes", "embedded SYNC save, plain", "SQLite WAL FULL upsert", "RocksDB put, WAL sync=true"};
        List<Row> rows = new ArrayList<>();
        for (int t = 0; t < targets.size(); t++) {
            for (int threads : new int[]{1, 16}) {
                rows.add(new Row(names[t], threads, targets.get(t), new ArrayList<>()));
            }
        }
        try {
            for (Row r : rows) {
                measure(r, Math.min(seconds, 0.5)); // warm-up
            }
            for (int round = 0; round < rounds; round++) {
                for (Row r : rows) {
                    r.rates().add(measure(r, seconds));
                }
            }
            System.out.println("Durable 1 KiB writes per second, median of " + rounds + " alternating rounds of " + seconds
                    + " s; load average " + SavePhases.loadAverage() + "\n");
            System.out.println("| writer | threads | writes/s (median) | all rounds |\n| --- | ---: | ---: | --- |");
            for (Row r : rows) {
                System.out.println(String.format(Locale.ROOT, "| %s | %d | %,.0f | %s |", r.name(), r.threads(), median(r.rates()),
                        r.rates().stream().map(v -> String.format(Locale.ROOT, "%,.0f", v)).toList()));
            }
        } finally {
            for (Target t : targets) {
                t.close();
            }
            roots.forEach(Stores::delete);
        }
    }

    private static double measure(Row r, double seconds) throws InterruptedException {
        LongAdder ops = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(r.threads());
        Throwable[] failed = new Throwable[1];
        for (int t = 0; t < r.threads(); t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                try {
                    for (int n = 0; !stop.get(); n++) {
                        r.target().write(thread, n);
                        ops.increment();
                    }
                } catch (Throwable e) {
                    failed[0] = e;
                } finally {
                    done.countDown();
                }
            });
            th.start();
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        done.await();
        if (failed[0] != null) {
            throw new IllegalStateException(r.name() + " failed", failed[0]);
        }
        return ops.sum() / ((System.nanoTime() - start) / 1e9);
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
