package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.benchmarks.peers.Peers;
import dev.reliablestore.cluster.SaveProbes;
import dev.reliablestore.registry.embedded.CommitProbes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a lone SYNC save's time goes: per-phase durations (p50, p99) of saves through the provider
 * on the embedded registry, from the nanoTime probes of the provider and the registry. The four
 * configurations (plain and zstd+aes, {@code groupCommit} writer and leader) run in alternating
 * rounds, so a change of machine load hits them alike.
 *
 * <pre>java -Dreliablestore.probes=true -cp benchmarks/target/benchmarks.jar \
 *     dev.reliablestore.benchmarks.suite.SavePhases [saves per round] [rounds] [dir] [entity JSON bytes]</pre>
 */
public final class SavePhases {

    static final String[] PHASES = {"json write", "version read", "encode (envelope+batch)", "provider → registry.commit",
            "apply + append (lock)", "hand-off to flusher", "write", "fdatasync", "publish", "wake-up of committer",
            "registry → provider", "after commit (cache, audit)", "total save (outside)", "  of which registry.commit"};

    private SavePhases() {
    }

    /** One configuration's open store and the durations measured so far, phase by sample. */
    static final class Config {
        final String pipeline;
        final String groupCommit;
        final Path root;
        final EntityStore<Order> store;
        final Order[] orders = new Order[8];
        final List<long[]> samples = new ArrayList<>();
        int skipped;
        int next;

        Config(String pipeline, String groupCommit, String dir, int size) {
            this.pipeline = pipeline;
            this.groupCommit = groupCommit;
            this.root = Stores.tempDir(dir, "save-phases");
            Map<String, String> o = Stores.clusterOptions("embedded:" + root.resolve("registry"), pipeline, false, false);
            o.put("registry.groupCommit", groupCommit);
            this.store = Persistence.open("cluster-registry", o, Order.class);
            Dataset.load(store, Stores.ids(64), size);
            for (int i = 0; i < orders.length; i++) {
                orders[i] = Payloads.order("V-" + i, size);
            }
        }

        String name() {
            return pipeline + ", " + groupCommit;
        }

        void save(boolean record) {
            String id = "O-" + (next & 63);
            Order o = orders[next & 7];
            next++;
            long t0 = System.nanoTime();
            store.save(id, o);
            long t1 = System.nanoTime();
            if (!record) {
                return;
            }
            long[] p = SaveProbes.stamps();
            long[] c = CommitProbes.committer();
            long[] f = CommitProbes.lastFlush();
            // the flush that covered this commit started after the append and published before the return
            if (f[0] < c[1] || f[3] > c[2] || p[0] < t0 || c[0] < p[3]) {
                skipped++;
                return;
            }
            samples.add(new long[]{
                    p[1] - p[0], p[2] - p[1], p[3] - p[2], c[0] - p[3],
                    c[1] - c[0], f[0] - c[1], f[1] - f[0], f[2] - f[1], f[3] - f[2], c[2] - f[3],
                    p[4] - c[2], p[5] - p[4], t1 - t0, c[2] - c[0]});
        }

        void close() {
            store.close();
            Stores.delete(root);
        }
    }

    /** A physical limit measured in the same rounds: 1 KiB appended + fdatasync, or overwritten in place in a preallocated file + fdatasync. */
    static final class Limit {
        static final long FILE_BYTES = 16L << 20;
        final String name;
        final boolean overwrite;
        final Path root;
        final FileChannel channel;
        final ByteBuffer record;
        final List<Long> samples = new ArrayList<>();
        long position;

        Limit(String name, boolean overwrite, String dir, int size) throws IOException {
            this.name = name;
            this.overwrite = overwrite;
            this.root = Stores.tempDir(dir, "save-phases-limit");
            this.channel = FileChannel.open(root.resolve("log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (overwrite) {
                ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
                for (long p = 0; p < FILE_BYTES; p += zeros.capacity()) {
                    zeros.clear();
                    while (zeros.hasRemaining()) {
                        channel.write(zeros, p + zeros.position());
                    }
                }
                channel.force(true);
            }
            byte[] json = Payloads.bytes(Payloads.order("V-0", size));
            record = ByteBuffer.allocateDirect(json.length).put(json);
        }

        void write(boolean recordIt) throws IOException {
            record.clear();
            if (overwrite && position + record.remaining() > FILE_BYTES) {
                position = 0;
            }
            long t0 = System.nanoTime();
            while (record.hasRemaining()) {
                position += channel.write(record, position);
            }
            channel.force(false);
            long t1 = System.nanoTime();
            if (recordIt) {
                samples.add(t1 - t0);
            }
        }

        void close() throws IOException {
            channel.close();
            Stores.delete(root);
        }
    }

    /** A durable peer timed in the same rounds: SQLite WAL FULL upsert, RocksDB put with a synced WAL. */
    static final class Peer {
        final String name;
        final Path root;
        final Peers.DurableWriter writer;
        final byte[][] json = new byte[8][];
        final List<Long> samples = new ArrayList<>();
        int next;

        Peer(String name, String dir, boolean sqlite, int size) throws Exception {
            this.name = name;
            this.root = Stores.tempDir(dir, "save-phases-peer");
            this.writer = sqlite ? Peers.sqliteFull(root) : Peers.rocksdbSync(root);
            for (int i = 0; i < json.length; i++) {
                json[i] = Payloads.bytes(Payloads.order("V-" + i, size));
            }
            for (int i = 0; i < 64; i++) {
                writer.put("O-" + i, json[i & 7]);
            }
        }

        void write(boolean recordIt) throws Exception {
            String id = "O-" + (next & 63);
            byte[] b = json[next & 7];
            next++;
            long t0 = System.nanoTime();
            writer.put(id, b);
            long t1 = System.nanoTime();
            if (recordIt) {
                samples.add(t1 - t0);
            }
        }

        void close() throws Exception {
            writer.close();
            Stores.delete(root);
        }
    }

    public static void main(String[] args) throws Exception {
        if (!SaveProbes.enabled() || !CommitProbes.enabled()) {
            System.err.println("run with -Dreliablestore.probes=true: the probes are off");
            System.exit(2);
        }
        int perRound = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String dir = args.length > 2 ? args[2] : "";
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
        List<Limit> limits = List.of(new Limit("fsync'ed append (fdatasync)", false, dir, size),
                new Limit("fdatasync of an in-place overwrite of a preallocated file", true, dir, size));
        List<Peer> peers = List.of(new Peer("SQLite WAL synchronous=FULL upsert", dir, true, size),
                new Peer("RocksDB put, WAL sync=true", dir, false, size));
        List<Config> configs = new ArrayList<>();
        for (String pipeline : new String[]{Stores.PLAIN, Stores.ZSTD_AES}) {
            for (String gc : new String[]{"writer", "leader"}) {
                configs.add(new Config(pipeline, gc, dir, size));
            }
        }
        try {
            for (Config c : configs) {
                for (int i = 0; i < perRound; i++) {
                    c.save(false); // warm-up
                }
            }
            for (Limit l : limits) {
                for (int i = 0; i < perRound; i++) {
                    l.write(false);
                }
            }
            for (Peer p : peers) {
                for (int i = 0; i < perRound; i++) {
                    p.write(false);
                }
            }
            for (int r = 0; r < rounds; r++) {
                for (Config c : configs) {
                    for (int i = 0; i < perRound; i++) {
                        c.save(true);
                    }
                }
                for (Limit l : limits) {
                    for (int i = 0; i < perRound; i++) {
                        l.write(true);
                    }
                }
                for (Peer p : peers) {
                    for (int i = 0; i < perRound; i++) {
                        p.write(true);
                    }
                }
            }
            System.out.println(table(configs, size, loadAverage()));
            System.out.println("Physical limits and peers in the same rounds, same bytes, µs (p50 / p99):\n\n| write | p50 / p99 |\n| --- | ---: |");
            for (Limit l : limits) {
                long[] v = l.samples.stream().mapToLong(Long::longValue).sorted().toArray();
                System.out.println(String.format(Locale.ROOT, "| %s | %.1f / %.1f |", l.name, pct(v, 0.50) / 1000.0, pct(v, 0.99) / 1000.0));
            }
            for (Peer p : peers) {
                long[] v = p.samples.stream().mapToLong(Long::longValue).sorted().toArray();
                System.out.println(String.format(Locale.ROOT, "| %s | %.1f / %.1f |", p.name, pct(v, 0.50) / 1000.0, pct(v, 0.99) / 1000.0));
            }
        } finally {
            configs.forEach(Config::close);
            for (Limit l : limits) {
                l.close();
            }
            for (Peer p : peers) {
                p.close();
            }
        }
    }

    static String table(List<Config> configs, int size, String load) {
        StringBuilder sb = new StringBuilder();
        sb.append("Lone SYNC save of a ").append(size).append("-byte entity, phases in µs (p50 / p99); load average ").append(load)
                .append('\n');
        sb.append("\n| phase |");
        configs.forEach(c -> sb.append(' ').append(c.name()).append(" |"));
        sb.append("\n| --- |");
        configs.forEach(c -> sb.append(" ---: |"));
        sb.append('\n');
        for (int ph = 0; ph < PHASES.length; ph++) {
            sb.append("| ").append(PHASES[ph]).append(" |");
            for (Config c : configs) {
                long[] v = new long[c.samples.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = c.samples.get(i)[ph];
                }
                Arrays.sort(v);
                sb.append(String.format(Locale.ROOT, " %.1f / %.1f |", pct(v, 0.50) / 1000.0, pct(v, 0.99) / 1000.0));
            }
            sb.append('\n');
        }
        sb.append("| samples (skipped) |");
        configs.forEach(c -> sb.append(' ').append(c.samples.size()).append(" (").append(c.skipped).append(") |"));
        sb.append('\n');
        return sb.toString();
    }

    private static long pct(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
