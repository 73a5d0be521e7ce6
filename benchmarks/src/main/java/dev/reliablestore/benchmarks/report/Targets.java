package dev.reliablestore.benchmarks.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The performance targets of the benchmark issue, each computed from one run: most are ratios to a
 * peer measured in the same run, so machine noise cancels.
 */
public final class Targets {

    /**
     * A quantity read from the results: a benchmark's score (in µs/op for time and throughput
     * modes, or ops/s when {@code throughput}), or one of its secondary results.
     *
     * @param benchmark  {@code Class.method}
     * @param params     parameters the result must have
     * @param secondary  a secondary result's name, or null for the primary score
     * @param throughput read the score as operations per second
     * @param label      how the report names it
     * @param percentile a percentile of a sample-mode score in µs/op ({@code "50.0"}), or null for the score
     */
    public record Measure(String benchmark, Map<String, String> params, String secondary, boolean throughput, String label,
                          String percentile) {

        public Measure(String benchmark, Map<String, String> params, String secondary, boolean throughput, String label) {
            this(benchmark, params, secondary, throughput, label, null);
        }

        /** The value, if the run measured it. */
        public Optional<Double> value(JmhResults results) {
            return results.find(benchmark, params).map(r -> {
                if (secondary != null) {
                    return r.secondary().get(secondary);
                }
                if (percentile != null) {
                    return r.percentileMicros(percentile);
                }
                return throughput ? r.score() : r.micros();
            });
        }
    }

    /**
     * A target: {@code value / reference} (or {@code value} alone when there is no reference) must be
     * at most (or at least) {@code limit}.
     *
     * @param id        short stable id (file names of profiles)
     * @param title     what is promised
     * @param value     the measured quantity
     * @param reference the peer it is compared with, or null for an absolute limit
     * @param limit     the bound
     * @param atMost    true: value (ratio) ≤ limit; false: ≥ limit
     * @param unit      the unit of an absolute limit ("µs", "B") or "×" for a ratio
     */
    public record Target(String id, String title, Measure value, Measure reference, double limit, boolean atMost, String unit) {
    }

    /** The outcome of one target. */
    public enum Status { MET, MISSED, NOT_MEASURED }

    /**
     * A target evaluated on a run.
     *
     * @param value     the measured quantity (NaN when not measured)
     * @param reference the peer's quantity (NaN when absolute or not measured)
     * @param actual    the ratio or the absolute value compared with the limit
     */
    public record Outcome(Target target, double value, double reference, double actual, Status status) {
    }

    private Targets() {
    }

    /** Every target of the issue, for both value pipelines where the pipeline matters. */
    public static List<Target> all() {
        List<Target> t = new ArrayList<>();
        Map<String, String> kb = Map.of("size", "1024");
        Measure caffeine = m("PeerReadBench.caffeineGetIfPresent", kb, "bare Caffeine getIfPresent");
        Measure append = m("PeerWriteBench.fsyncAppend", kb, "fsync'ed append of the same bytes");
        Measure sqliteFull = m("PeerWriteBench.sqliteFullUpsert", kb, "SQLite WAL FULL upsert");
        Measure sqliteFull16 = thr("PeerWriteBench.sqliteFullThroughput16", kb, "SQLite WAL FULL, 16 writers");
        Measure sqliteRead = m("PeerReadBench.sqliteReadById", kb, "SQLite read by id + JSON decode");
        Measure sqliteP50 = p50("PeerWriteBench.sqliteFullSample", kb, "SQLite WAL FULL upsert, p50");
        Measure rocksP50 = p50("PeerWriteBench.rocksdbSyncSample", kb, "RocksDB put (sync WAL), p50");
        Measure rocks16 = thr("PeerWriteBench.rocksdbSyncThroughput16", kb, "RocksDB sync puts, 16 writers");
        for (String pipeline : List.of("zstd+aes", "plain")) {
            Map<String, String> p = with(kb, "pipeline", pipeline);
            String tag = " (" + pipeline + ")";
            Measure cached = m("EmbeddedReadBench.readCached", p, "cached read" + tag);
            Measure uncached = m("EmbeddedReadBench.readUncached", p, "uncached embedded read" + tag);
            Measure sync = m("EmbeddedWriteBench.saveSync", p, "embedded SYNC save" + tag);
            Measure t01 = thr("EmbeddedWriteBench.syncThroughput01", p, "SYNC saves/s, 1 thread" + tag);
            Measure t16 = thr("EmbeddedWriteBench.syncThroughput16", p, "SYNC saves/s, 16 threads" + tag);
            Measure batch = m("EmbeddedWriteBench.saveBatch100", p, "saveBatch(100)" + tag);
            Measure async = m("EmbeddedWriteBench.saveAsync", p, "ASYNC save" + tag);
            String id = pipeline.equals("plain") ? "-plain" : "";
            t.add(new Target("cached-read" + id, "cached read ≤ 2 × bare Caffeine get" + tag, cached, caffeine, 2, true, "×"));
            if (pipeline.equals("zstd+aes")) {
                t.add(new Target("uncached-read-abs", "uncached embedded read, 1 KB, compression + encryption ≤ 20 µs",
                        uncached, null, 20, true, "µs"));
            }
            t.add(new Target("sync-vs-fsync" + id, "embedded SYNC save ≤ 2 × fsync'ed append" + tag, sync, append, 2, true, "×"));
            t.add(new Target("group-commit" + id, "16-thread SYNC throughput ≥ 6 × single-thread" + tag, t16, t01, 6, false, "×"));
            t.add(new Target("sync-vs-sqlite" + id, "single-writer SYNC save ≤ 1.2 × SQLite FULL" + tag, sync, sqliteFull, 1.2, true, "×"));
            t.add(new Target("writers-vs-sqlite" + id, "16 writers ≥ 5 × SQLite FULL throughput" + tag, t16, sqliteFull16, 5, false, "×"));
            Measure syncP50 = p50("EmbeddedWriteBench.saveSyncSample", p, "embedded SYNC save, p50" + tag);
            if (pipeline.equals("zstd+aes")) {
                t.add(new Target("sync-vs-sqlite-p50", "single-writer SYNC save p50 ≤ 1.1 × SQLite FULL p50" + tag, syncP50, sqliteP50,
                        1.1, true, "×"));
            } else {
                t.add(new Target("sync-vs-rocksdb-p50-plain", "single-writer SYNC save p50 ≤ 1.1 × RocksDB sync=true p50" + tag, syncP50,
                        rocksP50, 1.1, true, "×"));
            }
            t.add(new Target("writers-vs-rocksdb" + id, "16 writers ≥ 1.0 × RocksDB sync=true, 16 writers" + tag, t16, rocks16, 1.0, false,
                    "×"));
            t.add(new Target("read-vs-sqlite" + id, "uncached read ≤ 3 × SQLite read by id" + tag, uncached, sqliteRead, 3, true, "×"));
            t.add(new Target("batch" + id, "saveBatch(100) ≤ 5 × a single SYNC save" + tag, batch, sync, 5, true, "×"));
            t.add(new Target("async" + id, "ASYNC save ≤ 20 µs" + tag, async, null, 20, true, "µs"));
        }
        // a cache hit of an immutable record beside bare Caffeine, both in CachedReadBench (its mutable row has no target)
        Map<String, String> zkb = with(kb, "pipeline", "zstd+aes");
        t.add(new Target("cached-read-immutable", "cached read of an immutable record ≤ 2 × bare Caffeine getIfPresent (zstd+aes)",
                m("CachedReadBench.cachedReadImmutable", zkb, "cached read, immutable record (shared instance)"),
                m("CachedReadBench.caffeineGetIfPresent", zkb, "bare Caffeine getIfPresent, same class"), 2, true, "×"));
        for (String nodes : List.of("1", "3")) {
            Map<String, String> n = Map.of("nodes", nodes);
            String tag = " (ZooKeeper, " + nodes + (nodes.equals("1") ? " node)" : " nodes)");
            // the production pipeline: `full` runs ZooKeeperBench with plain too, and the first match would be plain's
            Map<String, String> np = with(n, "pipeline", "zstd+aes");
            t.add(new Target("zk-read-" + nodes, "ZooKeeper read ≤ 1.25 × raw Curator getData" + tag,
                    m("ZooKeeperBench.readUncached", np, "provider read, zstd+aes" + tag), m("ZooKeeperBench.rawGetData", n, "Curator getData" + tag),
                    1.25, true, "×"));
            t.add(new Target("zk-write-" + nodes, "ZooKeeper write ≤ 1.25 × raw Curator setData" + tag,
                    m("ZooKeeperBench.saveSync", np, "provider SYNC save, zstd+aes" + tag), m("ZooKeeperBench.rawSetData", n, "Curator setData" + tag),
                    1.25, true, "×"));
            // registry level: pipelining and group commit must beat unbatched raw calls
            t.add(new Target("zk-registry-16-" + nodes, "16 threads of registry commits ≥ 1.0 × raw Curator setData with 16 threads" + tag,
                    thr("ZooKeeperRegistryThroughputBench.registryCommit16", n, "registry commits, 16 threads" + tag),
                    thr("ZooKeeperRegistryThroughputBench.rawSetData16", n, "Curator setData, 16 threads" + tag), 1.0, false, "×"));
            t.add(new Target("zk-registry-async-" + nodes, "1,000 pipelined registry commitAsync ≥ 1.0 × 1,000 pipelined raw setData" + tag,
                    thr("ZooKeeperRegistryThroughputBench.registryCommitAsync1000", n, "registry commitAsync × 1,000" + tag),
                    thr("ZooKeeperRegistryThroughputBench.rawAsyncSetData1000", n, "Curator background setData × 1,000" + tag), 1.0, false, "×"));
            // provider level: saves of different entities pipeline (ordered per entity) and ride the registry's group commit
            Measure save16 = thr("ZooKeeperStoreThroughputBench.save16", n, "store.save, 16 writers" + tag);
            t.add(new Target("zk-store-16-" + nodes, "16 writers' saves ≥ 1.0 × raw Curator setData with 16 threads" + tag, save16,
                    thr("ZooKeeperStoreThroughputBench.rawSetData16", n, "Curator setData, 16 threads" + tag), 1.0, false, "×"));
            t.add(new Target("zk-store-scaling-" + nodes, "16 writers' saves ≥ 10 × one writer's" + tag, save16,
                    thr("ZooKeeperStoreThroughputBench.save01", n, "store.save, 1 writer" + tag), 10, false, "×"));
            t.add(new Target("zk-store-batch-" + nodes, "saveBatch(100) ≤ 3 × one save" + tag,
                    m("ZooKeeperStoreThroughputBench.saveBatch100", n, "saveBatch(100)" + tag),
                    m("ZooKeeperStoreThroughputBench.save01", n, "one save" + tag), 3, true, "×"));
        }
        // geo: one site's shipper into an embedded target site (its peer row, copying as-is, has no target)
        t.add(new Target("geo-shipper", "geo shipper ≥ 10,000 changes/s into one embedded target site (1 KB, zstd+aes)",
                thr("ShipperBench.shipTranslated", Map.of(), "shipper: opened, merged, re-sealed"), null, 10_000, false, "changes/s"));
        t.add(new Target("geo-lag-p99", "geo replication lag p99 ≤ siteReplicationDelay (0) + 100 ms at 1,000 writes/s across three sites",
                new Measure("ShipperLagBench.lag", Map.of("delayMillis", "0"), null, false, "lag to both other sites, p99", "99.0"),
                null, 100_000, true, "µs"));
        for (String pipeline : List.of("zstd+aes", "plain")) {
            Map<String, String> p = Map.of("pipeline", pipeline);
            String id = pipeline.equals("plain") ? "-plain" : "";
            t.add(new Target("heap-registry" + id, "heap per stored 1 KB entity in the embedded registry ≤ 1.5 KB (" + pipeline + ")",
                    new Measure("MemoryBench.heapPerEntity", p, "registryBytesPerEntity", false, "registry bytes/entity"), null,
                    1536, true, "B"));
            t.add(new Target("heap-cache" + id, "heap per cached 1 KB entity ≤ 1.5 KB (" + pipeline + ")",
                    new Measure("MemoryBench.heapPerEntity", p, "cacheBytesPerEntity", false, "cache bytes/entity"), null,
                    1536, true, "B"));
        }
        return t;
    }

    /** Evaluates every target on a run. */
    public static List<Outcome> evaluate(JmhResults results) {
        return all().stream().map(t -> evaluate(t, results)).toList();
    }

    /** Evaluates one target. */
    public static Outcome evaluate(Target t, JmhResults results) {
        Optional<Double> v = t.value().value(results);
        Optional<Double> r = t.reference() == null ? Optional.of(Double.NaN) : t.reference().value(results);
        if (v.isEmpty() || r.isEmpty() || v.get().isNaN() || (t.reference() != null && r.get().isNaN())) {
            return new Outcome(t, v.orElse(Double.NaN), r.orElse(Double.NaN), Double.NaN, Status.NOT_MEASURED);
        }
        double actual = t.reference() == null ? v.get() : v.get() / r.get();
        boolean met = t.atMost() ? actual <= t.limit() : actual >= t.limit();
        return new Outcome(t, v.get(), r.get(), actual, met ? Status.MET : Status.MISSED);
    }

    private static Measure m(String benchmark, Map<String, String> params, String label) {
        return new Measure(benchmark, params, null, false, label);
    }

    private static Measure p50(String benchmark, Map<String, String> params, String label) {
        return new Measure(benchmark, params, null, false, label, "50.0");
    }

    private static Measure thr(String benchmark, Map<String, String> params, String label) {
        return new Measure(benchmark, params, null, true, label);
    }

    private static Map<String, String> with(Map<String, String> base, String k, String v) {
        Map<String, String> m = new LinkedHashMap<>(base);
        m.put(k, v);
        return m;
    }
}
