package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.benchmarks.peers.PeerReadBench;
import dev.reliablestore.benchmarks.peers.PeerWriteBench;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What each mode of {@code benchmarks/run.sh} runs: a list of JMH runs, each a set of benchmark
 * methods with the parameter values that matter for them (JMH would otherwise run the full
 * cartesian product of every parameter), plus the iteration settings of the mode.
 */
public final class SuitePlan {

    /** The modes of {@code run.sh}. */
    public enum Mode {
        /** One short iteration of every benchmark, in process (CI: a benchmark cannot rot). */
        SMOKE,
        /** Every operation and peer at the sizes and pipelines the report needs; under 10 minutes on 2 cores. */
        QUICK,
        /** Every parameter combination, 2 forks, longer iterations. */
        FULL;

        /** Parses {@code smoke|quick|full}. */
        public static Mode parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("mode = \"" + s + "\" is not one of smoke, quick, full", e);
            }
        }
    }

    /**
     * One JMH run.
     *
     * @param include regular expression over fully qualified benchmark method names
     * @param params  parameter values overriding the annotations (empty: the annotations' values)
     */
    public record Run(String include, Map<String, List<String>> params) {
    }

    /** JVM options of every fork: a fixed heap (comparable runs) and quiet ZooKeeper logs. */
    public static final List<String> JVM_ARGS = List.of("-Xms1g", "-Xmx1g",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");

    private SuitePlan() {
    }

    /** The runs of a mode. {@code dir} ("" = java.io.tmpdir) is where every file-backed benchmark writes. */
    public static List<Run> runs(Mode mode, String dir) {
        List<Run> runs = new ArrayList<>();
        String codec = methods(CodecBench.class, "encode", "decode");
        String embRead = methods(EmbeddedReadBench.class, "readCached", "readUncached");
        String cachedRead = methods(CachedReadBench.class, "cachedReadImmutable", "cachedReadMutable", "caffeineGetIfPresent");
        String embWrite = methods(EmbeddedWriteBench.class, "saveSync", "saveSyncSample", "saveAsync", "saveBatch100",
                "syncThroughput01", "syncThroughput04", "syncThroughput16");
        String zk = methods(ZooKeeperBench.class, "readUncached", "saveSync", "rawGetData", "rawSetData");
        String zkRegistry = methods(ZooKeeperRegistryThroughputBench.class, "registryCommit16", "rawSetData16",
                "registryCommitAsync1000", "rawAsyncSetData1000");
        String zkStore = methods(ZooKeeperStoreThroughputBench.class, "save01", "save16", "rawSetData16",
                "saveAsync1000", "rawAsyncSetData1000", "saveBatch100");
        String memory = methods(MemoryBench.class, "heapPerEntity");
        String peerWrite = methods(PeerWriteBench.class, "fsyncAppend", "fsyncOverwrite", "sqliteFullUpsert", "sqliteNormalUpsert",
                "fileProviderSave", "sqliteFullThroughput01", "sqliteFullThroughput16", "rocksdbSyncPut", "rocksdbSyncThroughput01",
                "rocksdbSyncThroughput16", "fsyncAppendSample", "fsyncOverwriteSample", "sqliteFullSample", "rocksdbSyncSample");
        String shipper = methods(dev.reliablestore.cluster.geo.ShipperBench.class, "shipTranslated", "shipCopied");
        String lag = methods(dev.reliablestore.cluster.geo.ShipperLagBench.class, "lag");
        String peerRead = methods(PeerReadBench.class, "caffeineGetIfPresent", "sqliteReadBytes", "sqliteReadById",
                "fileProviderRead");
        switch (mode) {
            case SMOKE -> {
                // first: smoke mode runs everything in one JVM (forks 0), and the heap deltas of MemoryBench moved by
                // megabytes when it ran after the ZooKeeper benchmarks, whose servers were still being torn down
                // (CI saw -2.1 KB and +23 KB per entity where it measures about 1 KB)
                runs.add(new Run(memory, p("pipeline", Stores.ZSTD_AES, "entities", "2000")));
                runs.add(new Run(codec, p("size", "1024", "pipeline", Stores.ZSTD_AES)));
                // 100 entities: the fill is most of a read benchmark's smoke time, and a read needs only a few to pick from
                runs.add(new Run(embRead, p("size", "1024", "pipeline", Stores.ZSTD_AES, "entities", "100")));
                runs.add(new Run(cachedRead, p("entities", "100")));
                runs.add(new Run(embWrite, p("size", "1024", "pipeline", Stores.ZSTD_AES)));
                runs.add(new Run(zk, p("nodes", "1")));
                runs.add(new Run(zkRegistry, p("nodes", "1")));
                runs.add(new Run(zkStore, p("nodes", "1")));
                // not in quick/full: run by `run.sh ratios shapes`
                runs.add(new Run(methods(ZooKeeperMultiShapeBench.class, "rawSetData", "saveShape", "withoutGuards", "epochGuards",
                        "oneZnodePerEntity", "logWithoutValue", "valueAndMarker", "rawBatch100", "saveBatchShape", "batchLogWithoutValues"),
                        p("nodes", "1")));
                runs.add(new Run(peerWrite, p("size", "1024")));
                runs.add(new Run(peerRead, p("size", "1024", "entities", "100")));
                runs.add(new Run(shipper, Map.of()));
                runs.add(new Run(lag, Map.of()));
            }
            case QUICK -> {
                runs.add(new Run(codec, Map.of()));
                runs.add(new Run(embRead, Map.of()));
                runs.add(new Run(cachedRead, Map.of()));
                runs.add(new Run(embWrite, p("size", "1024")));
                runs.add(new Run(methods(EmbeddedWriteBench.class, "saveSync"), p("size", "65536")));
                runs.add(new Run(zk, Map.of()));
                runs.add(new Run(zkRegistry, Map.of()));
                runs.add(new Run(zkStore, Map.of()));
                runs.add(new Run(memory, Map.of()));
                runs.add(new Run(peerWrite, p("size", "1024")));
                runs.add(new Run(methods(PeerWriteBench.class, "fsyncAppend", "fsyncOverwrite", "sqliteFullUpsert", "rocksdbSyncPut"),
                        p("size", "65536")));
                runs.add(new Run(peerRead, p("size", "1024")));
                runs.add(new Run(methods(PeerReadBench.class, "sqliteReadById"), p("size", "65536")));
                runs.add(new Run(shipper, Map.of()));
                runs.add(new Run(lag, Map.of()));
            }
            case FULL -> {
                runs.add(new Run(codec, Map.of()));
                runs.add(new Run(embRead, Map.of()));
                runs.add(new Run(cachedRead, Map.of()));
                runs.add(new Run(embWrite, Map.of()));
                runs.add(new Run(zk, p("pipeline", Stores.PLAIN + "," + Stores.ZSTD_AES)));
                runs.add(new Run(zkRegistry, Map.of()));
                runs.add(new Run(zkStore, Map.of()));
                runs.add(new Run(memory, Map.of()));
                runs.add(new Run(peerWrite, Map.of()));
                runs.add(new Run(peerRead, Map.of()));
                runs.add(new Run(shipper, Map.of()));
                runs.add(new Run(lag, Map.of()));
            }
            default -> throw new IllegalStateException(String.valueOf(mode));
        }
        if (dir != null && !dir.isEmpty()) {
            List<Run> withDir = new ArrayList<>();
            for (Run r : runs) {
                if (r.include().contains("ZooKeeper")) {
                    withDir.add(r);
                } else {
                    Map<String, List<String>> params = new LinkedHashMap<>(r.params());
                    params.put("dir", List.of(dir));
                    withDir.add(new Run(r.include(), params));
                }
            }
            runs = withDir;
        }
        return runs;
    }

    /** The JMH options of one run in a mode. */
    public static ChainedOptionsBuilder options(Mode mode, Run run) {
        ChainedOptionsBuilder o = new OptionsBuilder().include(run.include()).shouldFailOnError(true)
                .jvmArgsAppend(JVM_ARGS.toArray(String[]::new));
        run.params().forEach((name, values) -> o.param(name, values.toArray(String[]::new)));
        switch (mode) {
            // 20 ms: every mode's loop completes at least one operation before it looks at the clock, which is all
            // a positive score needs; 60 methods x 100 ms was 6 s of the CI build for figures nobody reads
            case SMOKE -> o.forks(0).warmupIterations(0).measurementIterations(1)
                    .measurementTime(TimeValue.milliseconds(20));
            case QUICK -> o.forks(1).warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(3).measurementTime(TimeValue.seconds(1));
            case FULL -> o.forks(2).warmupIterations(3).warmupTime(TimeValue.seconds(2))
                    .measurementIterations(5).measurementTime(TimeValue.seconds(2));
            default -> throw new IllegalStateException(String.valueOf(mode));
        }
        if (mode == Mode.QUICK && run.include().contains(dev.reliablestore.cluster.geo.ShipperBench.class.getSimpleName())) {
            // a shipment runs through the feed, translator, codec and target threads: one second of warm-up leaves it
            // half-compiled (about 6,500 changes/s in the first 3 s, 12,000+ from the second 3 s on this machine)
            o.warmupIterations(2).warmupTime(TimeValue.seconds(3)).measurementTime(TimeValue.seconds(2));
        }
        if (run.include().contains(MemoryBench.class.getSimpleName())) {
            // one measurement per fork: the score is a heap delta, not a time to average
            o.warmupIterations(0).measurementIterations(1);
        }
        return o;
    }

    /** Every benchmark method of the suite, by fully qualified name (the smoke test checks each ran). */
    public static List<String> allBenchmarks() {
        List<String> all = new ArrayList<>();
        for (Run r : runs(Mode.SMOKE, "")) {
            String inner = r.include().substring(r.include().indexOf("\\.(") + 3, r.include().lastIndexOf(")$"));
            String cls = r.include().substring(1, r.include().indexOf("\\.(")).replace("\\.", ".");
            for (String m : inner.split("\\|")) {
                all.add(cls + "." + m);
            }
        }
        return all;
    }

    static String methods(Class<?> benchmark, String... names) {
        return "^" + benchmark.getName().replace(".", "\\.") + "\\.(" + String.join("|", names) + ")$";
    }

    private static Map<String, List<String>> p(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], List.of(kv[i + 1].split(",")));
        }
        return m;
    }
}
