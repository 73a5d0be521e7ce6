package dev.reliablestore.benchmarks.suite;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Targets judged the way issues 14 and 15 ask: each ratio is the median over several rounds, a round
 * being one JMH fork of every side run one after the other, so both sides of a ratio meet the same
 * moment of a shared 2-core machine; the spread (lowest and highest round) is reported beside the
 * median. Three suites: {@code zookeeper} (issue 14, per ensemble size), {@code shapes} (what the
 * multi of a save costs a ZooKeeper server in today's layout and in others, against {@code setData})
 * and {@code embedded} (issue 15, on the disk of {@code dir}).
 *
 * <p>The forks warm up longer than the quick suite's single second: the provider's write path is far
 * more code than one Curator call or one SQLite upsert, and with a one-second warm-up half of a
 * 16-writer fork's CPU went to the JIT compiler (measured with async-profiler, on both backends),
 * which measures compilation, not the store.
 *
 * <pre>java -cp benchmarks.jar dev.reliablestore.benchmarks.suite.AlternatingRatios zookeeper [rounds] [nodes,…] [out.md]
 *java -cp benchmarks.jar dev.reliablestore.benchmarks.suite.AlternatingRatios shapes [rounds] [nodes,…] [out.md]
 *java -cp benchmarks.jar dev.reliablestore.benchmarks.suite.AlternatingRatios embedded [rounds] [dir] [out.md]</pre>
 */
public final class AlternatingRatios {

    /** One benchmark method with its fixed parameters; a fork of it is run once per round. */
    record Side(Class<?> bench, String method, Map<String, String> params) {
        Side(Class<?> bench, String method, String... kv) {
            this(bench, method, pairs(kv));
        }

        String include() {
            return SuitePlan.methods(bench, method);
        }

        String label() {
            return bench.getSimpleName() + "." + method + (params.isEmpty() ? "" : " " + params);
        }

        private static Map<String, String> pairs(String... kv) {
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < kv.length; i += 2) {
                m.put(kv[i], kv[i + 1]);
            }
            return m;
        }
    }

    /** Which figure of a side's fork: its score (mean time or throughput) or a percentile of a sample-mode run. */
    enum Stat {
        SCORE(""), P50(" p50"), P99(" p99");

        final String suffix;

        Stat(String suffix) {
            this.suffix = suffix;
        }
    }

    record Measure(Side side, Stat stat) {
        static Measure of(Side side) {
            return new Measure(side, Stat.SCORE);
        }
    }

    /**
     * A ratio {@code (ours - minus) / peer} in the benchmarks' own unit ({@code minus} is optional),
     * inverted when {@code invert} (so that e.g. a batch's time is compared with one save's time from
     * two throughputs). A {@code target} holds when the median is at most (or at least) {@code limit};
     * a row that is not a target is a goal or a figure the issue asks to report beside one.
     */
    record Pair(String name, Measure ours, Measure peer, Measure minus, boolean invert, boolean atMost, double limit, boolean target) {
        static Pair target(String name, Measure ours, Measure peer, boolean atMost, double limit) {
            return new Pair(name, ours, peer, null, false, atMost, limit, true);
        }

        static Pair goal(String name, Measure ours, Measure peer, boolean atMost, double limit) {
            return new Pair(name, ours, peer, null, false, atMost, limit, false);
        }
    }

    // ---- issue 14: ZooKeeper (parameter nodes per ensemble) -------------------------------------

    static final Side SAVE = new Side(ZooKeeperBench.class, "saveSync");
    static final Side SET_DATA = new Side(ZooKeeperBench.class, "rawSetData");
    static final Side READ = new Side(ZooKeeperBench.class, "readUncached");
    static final Side GET_DATA = new Side(ZooKeeperBench.class, "rawGetData");
    static final Side SAVE01 = new Side(ZooKeeperStoreThroughputBench.class, "save01");
    static final Side SAVE16 = new Side(ZooKeeperStoreThroughputBench.class, "save16");
    static final Side RAW16 = new Side(ZooKeeperStoreThroughputBench.class, "rawSetData16");
    static final Side ASYNC1000 = new Side(ZooKeeperStoreThroughputBench.class, "saveAsync1000");
    static final Side RAW_ASYNC1000 = new Side(ZooKeeperStoreThroughputBench.class, "rawAsyncSetData1000");
    static final Side BATCH100 = new Side(ZooKeeperStoreThroughputBench.class, "saveBatch100");

    static final List<Pair> ZOOKEEPER = List.of(
            Pair.target("single-writer SYNC save / raw Curator setData (time)", Measure.of(SAVE), Measure.of(SET_DATA), true, 1.25),
            Pair.target("uncached read / raw Curator getData (time)", Measure.of(READ), Measure.of(GET_DATA), true, 1.25),
            Pair.target("16 writers' saves / raw Curator setData, 16 threads (throughput)", Measure.of(SAVE16), Measure.of(RAW16), false, 1.0),
            Pair.target("16 writers' saves / one writer's saves (throughput)", Measure.of(SAVE16), Measure.of(SAVE01), false, 10.0),
            Pair.target("1,000 pipelined saveAsync / 1,000 pipelined raw setData (throughput)", Measure.of(ASYNC1000), Measure.of(RAW_ASYNC1000), false, 1.0),
            new Pair("saveBatch(100) / one save (time)", Measure.of(BATCH100), Measure.of(SAVE01), null, true, true, 3.0, true));

    // ---- issue 14: what each layout's save multi costs ZooKeeper (parameter nodes) -----------------

    static final Side SHAPE_SET_DATA = new Side(ZooKeeperMultiShapeBench.class, "rawSetData");

    static Pair shape(String method, String what) {
        return Pair.goal(what + " / setData (time)", Measure.of(new Side(ZooKeeperMultiShapeBench.class, method)),
                Measure.of(SHAPE_SET_DATA), true, 1.25);
    }

    static final List<Pair> SHAPES = List.of(
            shape("saveShape", "a lone save's multi today (12 ops)"),
            shape("withoutGuards", "its writes without any guard (4 ops)"),
            shape("epochGuards", "an epoch check instead of the ancestors' (8 ops)"),
            shape("oneZnodePerEntity", "one znode per entity, no version record (10 ops)"),
            shape("logWithoutValue", "a change-log entry without the value (12 ops)"),
            shape("valueAndMarker", "the value and a 64-byte commit marker only (2 ops)"),
            Pair.goal("the engine's own batch, a multi of 100 setData / setData (time)",
                    Measure.of(new Side(ZooKeeperMultiShapeBench.class, "rawBatch100")), Measure.of(SHAPE_SET_DATA), true, 3.0),
            batchShape("saveBatchShape", "a saveBatch(100)'s multi today (210 ops)"),
            batchShape("batchLogWithoutValues", "the same with a change-log entry without the values (210 ops)"));

    /** A batch's multi against a lone save's, as the target compares saveBatch(100) with one save. */
    static Pair batchShape(String method, String what) {
        return Pair.goal(what + " / a lone save's multi (time)", Measure.of(new Side(ZooKeeperMultiShapeBench.class, method)),
                Measure.of(new Side(ZooKeeperMultiShapeBench.class, "saveShape")), true, 3.0);
    }

    // ---- issue 15: embedded, 1 KB (parameter dir) ----------------------------------------------

    static final Side SYNC_SAMPLE_ZA = new Side(EmbeddedWriteBench.class, "saveSyncSample", "size", "1024", "pipeline", "zstd+aes");
    static final Side SYNC_SAMPLE_PLAIN = new Side(EmbeddedWriteBench.class, "saveSyncSample", "size", "1024", "pipeline", "plain");
    static final Side SQLITE_FULL_SAMPLE = new Side(dev.reliablestore.benchmarks.peers.PeerWriteBench.class, "sqliteFullSample", "size", "1024");
    static final Side ROCKS_SAMPLE = new Side(dev.reliablestore.benchmarks.peers.PeerWriteBench.class, "rocksdbSyncSample", "size", "1024");
    static final Side ASYNC_PLAIN = new Side(EmbeddedWriteBench.class, "saveAsync", "size", "1024", "pipeline", "plain");
    static final Side ASYNC_ZA = new Side(EmbeddedWriteBench.class, "saveAsync", "size", "1024", "pipeline", "zstd+aes");
    static final Side SQLITE_NORMAL = new Side(dev.reliablestore.benchmarks.peers.PeerWriteBench.class, "sqliteNormalUpsert", "size", "1024");
    static final Side ENCODE_ZA = new Side(CodecBench.class, "encode", "size", "1024", "pipeline", "zstd+aes");
    static final Side T01_PLAIN = new Side(EmbeddedWriteBench.class, "syncThroughput01", "size", "1024", "pipeline", "plain");
    static final Side T16_PLAIN = new Side(EmbeddedWriteBench.class, "syncThroughput16", "size", "1024", "pipeline", "plain");
    static final Side T01_ZA = new Side(EmbeddedWriteBench.class, "syncThroughput01", "size", "1024", "pipeline", "zstd+aes");
    static final Side T16_ZA = new Side(EmbeddedWriteBench.class, "syncThroughput16", "size", "1024", "pipeline", "zstd+aes");
    static final Side SQLITE_FULL16 = new Side(dev.reliablestore.benchmarks.peers.PeerWriteBench.class, "sqliteFullThroughput16", "size", "1024");
    static final Side ROCKS16 = new Side(dev.reliablestore.benchmarks.peers.PeerWriteBench.class, "rocksdbSyncThroughput16", "size", "1024");

    static final List<Pair> EMBEDDED = List.of(
            Pair.target("single-writer SYNC save, zstd+aes / SQLite WAL FULL upsert (p50)",
                    new Measure(SYNC_SAMPLE_ZA, Stat.P50), new Measure(SQLITE_FULL_SAMPLE, Stat.P50), true, 1.1),
            Pair.goal("single-writer SYNC save, zstd+aes / SQLite WAL FULL upsert (p99)",
                    new Measure(SYNC_SAMPLE_ZA, Stat.P99), new Measure(SQLITE_FULL_SAMPLE, Stat.P99), true, 1.5),
            Pair.target("single-writer SYNC save, plain / RocksDB sync=true put (p50)",
                    new Measure(SYNC_SAMPLE_PLAIN, Stat.P50), new Measure(ROCKS_SAMPLE, Stat.P50), true, 1.1),
            Pair.target("ASYNC save, plain / SQLite WAL NORMAL upsert (time)", Measure.of(ASYNC_PLAIN), Measure.of(SQLITE_NORMAL), true, 0.5),
            new Pair("ASYNC save, zstd+aes, less the measured encode / SQLite WAL NORMAL upsert (time)",
                    Measure.of(ASYNC_ZA), Measure.of(SQLITE_NORMAL), Measure.of(ENCODE_ZA), false, true, 0.5, true),
            Pair.target("16 writers / one writer, plain (throughput)", Measure.of(T16_PLAIN), Measure.of(T01_PLAIN), false, 6.0),
            Pair.target("16 writers, plain / SQLite WAL FULL, 16 writers (throughput)", Measure.of(T16_PLAIN), Measure.of(SQLITE_FULL16), false, 5.0),
            Pair.target("16 writers, plain / RocksDB sync=true, 16 writers (throughput)", Measure.of(T16_PLAIN), Measure.of(ROCKS16), false, 1.0),
            Pair.goal("16 writers / one writer, zstd+aes (throughput)", Measure.of(T16_ZA), Measure.of(T01_ZA), false, 6.0),
            Pair.goal("16 writers, zstd+aes / SQLite WAL FULL, 16 writers (throughput)", Measure.of(T16_ZA), Measure.of(SQLITE_FULL16), false, 5.0),
            Pair.goal("16 writers, zstd+aes / RocksDB sync=true, 16 writers (throughput)", Measure.of(T16_ZA), Measure.of(ROCKS16), false, 1.0));

    static final int WARMUP_SECONDS = 6;
    /**
     * The ZooKeeper forks warm up longer still: the in-process servers and the client are one JVM,
     * and C2 kept compiling them for more than 20 s of a fork (29 % of the CPU 20–32 s in, on 2
     * cores); after 6 s a lone save measured 2.0–2.7 × raw {@code setData}, after 20 s 1.45 ×.
     */
    static final int ZOOKEEPER_WARMUP_SECONDS = 20;

    private AlternatingRatios() {
    }

    public static void main(String[] args) throws Exception {
        String suite = args.length > 0 ? args[0] : "zookeeper";
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds = " + rounds + " must be at least 1");
        }
        List<Pair> pairs;
        List<Map<String, String>> groups = new ArrayList<>();
        List<String> headings = new ArrayList<>();
        Path out;
        String title;
        int warmup = suite.equals("embedded") ? WARMUP_SECONDS : ZOOKEEPER_WARMUP_SECONDS;
        switch (suite) {
            case "zookeeper" -> {
                pairs = ZOOKEEPER;
                ensembles(args.length > 2 ? args[2] : "1,3", groups, headings);
                out = Path.of(args.length > 3 ? args[3] : "benchmarks/results/zookeeper-ratios.md");
                title = "ZooKeeper ratios (issue 14), alternating forks";
            }
            case "embedded" -> {
                pairs = EMBEDDED;
                String dir = args.length > 2 ? args[2] : "";
                groups.add(Map.of("dir", dir));
                headings.add("embedded registry, 1 KB entities, files in " + (dir.isEmpty() ? "java.io.tmpdir" : dir));
                out = Path.of(args.length > 3 ? args[3] : "benchmarks/results/embedded-ratios.md");
                title = "Embedded ratios (issue 15), alternating forks";
            }
            case "shapes" -> {
                pairs = SHAPES;
                ensembles(args.length > 2 ? args[2] : "1", groups, headings);
                out = Path.of(args.length > 3 ? args[3] : "benchmarks/results/shapes-ratios.md");
                title = "What a save's multi costs ZooKeeper, by layout (issue 14), alternating forks";
            }
            default -> throw new IllegalArgumentException("suite = " + suite + ": zookeeper, shapes or embedded");
        }
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n")
                .append("Generated by `benchmarks/run.sh ratios ").append(suite).append("`; started ").append(Instant.now())
                .append(", commit ").append(System.getenv().getOrDefault("RS_COMMIT", "unknown"))
                .append(", ").append(os.getAvailableProcessors()).append(" cores, load average at start ")
                .append(String.format(Locale.ROOT, "%.2f", os.getSystemLoadAverage())).append(". ")
                .append(rounds).append(" rounds; a round runs one fork of every benchmark below one after the other (")
                .append(warmup).append(" × 1 s warm-up, 3 × 1 s measured). Ratio = median over the rounds, [lowest – highest]; ")
                .append("a goal is reported beside the targets, as the issue asks.\n\n");
        for (int g = 0; g < groups.size(); g++) {
            Map<String, String> groupParams = groups.get(g);
            Map<Measure, List<Double>> scores = new LinkedHashMap<>();
            for (int round = 1; round <= rounds; round++) {
                for (Side side : sides(pairs)) {
                    RunResult r = run(side, groupParams, warmup);
                    for (Stat stat : Stat.values()) {
                        Measure m = new Measure(side, stat);
                        if (uses(pairs, m)) {
                            double v = value(r, stat);
                            scores.computeIfAbsent(m, k -> new ArrayList<>()).add(v);
                            System.out.printf(Locale.ROOT, "[ratios] %s, round %d/%d: %s%s = %.3f%n", headings.get(g), round, rounds, side.label(), stat.suffix, v);
                        }
                    }
                }
            }
            md.append("## ").append(headings.get(g)).append("\n\n")
                    .append("| ratio | median | spread | limit | result | ours (median) | peer (median) |\n")
                    .append("|---|---:|---|---:|---|---:|---:|\n");
            for (Pair p : pairs) {
                List<Double> ratios = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    double ours = scores.get(p.ours()).get(r) - (p.minus() == null ? 0 : scores.get(p.minus()).get(r));
                    double peer = scores.get(p.peer()).get(r);
                    ratios.add(p.invert() ? peer / ours : ours / peer);
                }
                double median = median(ratios);
                boolean met = p.atMost() ? median <= p.limit() : median >= p.limit();
                String result = p.target() ? (met ? "met" : "**missed**") : (met ? "goal met" : "goal missed");
                String ours = unit(p.ours(), median(scores.get(p.ours())));
                if (p.minus() != null) {
                    ours += " less " + unit(p.minus(), median(scores.get(p.minus())));
                }
                md.append(String.format(Locale.ROOT, "| %s | %.2f × | %.2f – %.2f | %s %.2f × | %s | %s | %s |%n",
                        p.name(), median, Collections.min(ratios), Collections.max(ratios), p.atMost() ? "≤" : "≥", p.limit(),
                        result, ours, unit(p.peer(), median(scores.get(p.peer())))));
            }
            md.append('\n');
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, md);
        System.out.println(md);
    }

    /** One group per ensemble size of {@code nodes} ({@code 1,3}). */
    private static void ensembles(String nodes, List<Map<String, String>> groups, List<String> headings) {
        for (String n : nodes.split(",")) {
            groups.add(Map.of("nodes", n));
            headings.add(n + (n.equals("1") ? " server" : " servers"));
        }
    }

    /** Every side of the pairs, once, in pair order. */
    static List<Side> sides(List<Pair> pairs) {
        List<Side> sides = new ArrayList<>();
        for (Pair p : pairs) {
            for (Measure m : p.minus() == null ? List.of(p.ours(), p.peer()) : List.of(p.ours(), p.peer(), p.minus())) {
                if (!sides.contains(m.side())) {
                    sides.add(m.side());
                }
            }
        }
        return sides;
    }

    private static boolean uses(List<Pair> pairs, Measure m) {
        return pairs.stream().anyMatch(p -> m.equals(p.ours()) || m.equals(p.peer()) || m.equals(p.minus()));
    }

    private static double value(RunResult r, Stat stat) {
        return switch (stat) {
            case SCORE -> r.getPrimaryResult().getScore();
            case P50 -> r.getPrimaryResult().getStatistics().getPercentile(50);
            case P99 -> r.getPrimaryResult().getStatistics().getPercentile(99);
        };
    }

    private static RunResult run(Side side, Map<String, String> groupParams, int warmupSeconds) throws Exception {
        ChainedOptionsBuilder o = new OptionsBuilder().include(side.include()).shouldFailOnError(true)
                .jvmArgsAppend(SuitePlan.JVM_ARGS.toArray(String[]::new))
                .forks(1).warmupIterations(warmupSeconds).warmupTime(TimeValue.seconds(1))
                .measurementIterations(3).measurementTime(TimeValue.seconds(1));
        groupParams.forEach(o::param);
        side.params().forEach(o::param);
        return new Runner(o.build()).runSingle();
    }

    private static String unit(Measure m, double score) {
        String name = m.side().method();
        boolean throughput = name.contains("Throughput") || m.side().bench() == ZooKeeperStoreThroughputBench.class;
        return throughput ? String.format(Locale.ROOT, "%,.0f /s", score) : String.format(Locale.ROOT, "%.1f µs", score);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
