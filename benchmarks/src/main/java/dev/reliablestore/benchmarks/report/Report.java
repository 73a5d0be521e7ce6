package dev.reliablestore.benchmarks.report;

import dev.reliablestore.benchmarks.report.JmhResults.Result;
import dev.reliablestore.benchmarks.report.Targets.Outcome;
import dev.reliablestore.benchmarks.report.Targets.Status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Renders a run's results as {@code REPORT.md} and the bars of its chart. */
public final class Report {

    /** A line of the seed's "Performance Metrics" table: its text and its upper bound in µs. */
    record Seed(String operation, String typical, double upperMicros) {
    }

    static final Seed CACHED = new Seed("Single Read (cached)", "< 0.1 ms", 100);
    static final Seed CLUSTER_READ = new Seed("Single Read (cluster)", "1–5 ms", 5_000);
    static final Seed SYNC_WRITE = new Seed("Single Write (sync)", "10–20 ms", 20_000);
    static final Seed ASYNC_WRITE = new Seed("Single Write (async)", "2–5 ms", 5_000);
    static final Seed BATCH = new Seed("Batch Write (100 items)", "100–200 ms", 200_000);

    /** One cell source: a benchmark with parameters, shown under a label. */
    record Cell(String label, String benchmark, Map<String, String> params, boolean ours) {
    }

    private final JmhResults results;
    private final List<Outcome> outcomes;
    private final Map<String, String> run;
    private final Function<String, Optional<String>> profiles;
    private final Function<String, Optional<String>> notes;

    /**
     * @param results  the run
     * @param run      facts about the run and the machine, shown in order (label → value)
     * @param profiles profile summary (Markdown) of a missed target, by target id
     * @param notes    the hand-written reading of a missed target's profile, by target id
     */
    public Report(JmhResults results, Map<String, String> run, Function<String, Optional<String>> profiles,
                  Function<String, Optional<String>> notes) {
        this.results = results;
        this.outcomes = Targets.evaluate(results);
        this.run = run;
        this.profiles = profiles;
        this.notes = notes;
    }

    /** The targets as evaluated on this run. */
    public List<Outcome> outcomes() {
        return outcomes;
    }

    static final Map<String, String> KB = Map.of("size", "1024");

    private static Map<String, String> kb(String pipeline) {
        return Map.of("size", "1024", "pipeline", pipeline);
    }

    /** The rows of the side-by-side table and the chart: (seed line, cells). */
    Map<Seed, List<Cell>> table() {
        Map<Seed, List<Cell>> t = new LinkedHashMap<>();
        t.put(CACHED, List.of(
                new Cell("embedded, zstd+aes", "EmbeddedReadBench.readCached", kb("zstd+aes"), true),
                new Cell("embedded, plain", "EmbeddedReadBench.readCached", kb("plain"), true),
                new Cell("embedded, immutable record (shared instance)", "CachedReadBench.cachedReadImmutable", KB, true),
                new Cell("embedded, mutable Order (fresh copy), same class", "CachedReadBench.cachedReadMutable", KB, true),
                new Cell("bare Caffeine getIfPresent", "PeerReadBench.caffeineGetIfPresent", KB, false),
                new Cell("bare Caffeine getIfPresent, beside the two above", "CachedReadBench.caffeineGetIfPresent", KB, false)));
        t.put(CLUSTER_READ, List.of(
                new Cell("embedded, zstd+aes", "EmbeddedReadBench.readUncached", kb("zstd+aes"), true),
                new Cell("embedded, plain", "EmbeddedReadBench.readUncached", kb("plain"), true),
                new Cell("ZooKeeper 1 node, zstd+aes", "ZooKeeperBench.readUncached", Map.of("nodes", "1", "pipeline", "zstd+aes"), true),
                new Cell("ZooKeeper 3 nodes, zstd+aes", "ZooKeeperBench.readUncached", Map.of("nodes", "3", "pipeline", "zstd+aes"), true),
                new Cell("SQLite WAL read by id + JSON", "PeerReadBench.sqliteReadById", KB, false),
                new Cell("SQLite WAL read by id, bytes", "PeerReadBench.sqliteReadBytes", KB, false),
                new Cell("file provider read", "PeerReadBench.fileProviderRead", KB, false),
                new Cell("Curator getData, 1 node", "ZooKeeperBench.rawGetData", Map.of("nodes", "1"), false),
                new Cell("Curator getData, 3 nodes", "ZooKeeperBench.rawGetData", Map.of("nodes", "3"), false)));
        t.put(SYNC_WRITE, List.of(
                new Cell("embedded, zstd+aes", "EmbeddedWriteBench.saveSync", kb("zstd+aes"), true),
                new Cell("embedded, plain", "EmbeddedWriteBench.saveSync", kb("plain"), true),
                new Cell("ZooKeeper 1 node, zstd+aes", "ZooKeeperBench.saveSync", Map.of("nodes", "1", "pipeline", "zstd+aes"), true),
                new Cell("ZooKeeper 3 nodes, zstd+aes", "ZooKeeperBench.saveSync", Map.of("nodes", "3", "pipeline", "zstd+aes"), true),
                new Cell("fsync'ed append (physical limit)", "PeerWriteBench.fsyncAppend", KB, false),
                new Cell("fdatasync of an in-place overwrite of a preallocated file (physical limit)", "PeerWriteBench.fsyncOverwrite", KB,
                        false),
                new Cell("RocksDB put, WAL sync=true", "PeerWriteBench.rocksdbSyncPut", KB, false),
                new Cell("SQLite WAL synchronous=FULL", "PeerWriteBench.sqliteFullUpsert", KB, false),
                new Cell("file provider save", "PeerWriteBench.fileProviderSave", KB, false),
                new Cell("Curator setData, 1 node", "ZooKeeperBench.rawSetData", Map.of("nodes", "1"), false),
                new Cell("Curator setData, 3 nodes", "ZooKeeperBench.rawSetData", Map.of("nodes", "3"), false)));
        t.put(ASYNC_WRITE, List.of(
                new Cell("embedded, zstd+aes", "EmbeddedWriteBench.saveAsync", kb("zstd+aes"), true),
                new Cell("embedded, plain", "EmbeddedWriteBench.saveAsync", kb("plain"), true),
                new Cell("SQLite WAL synchronous=NORMAL", "PeerWriteBench.sqliteNormalUpsert", KB, false)));
        t.put(BATCH, List.of(
                new Cell("embedded, zstd+aes", "EmbeddedWriteBench.saveBatch100", kb("zstd+aes"), true),
                new Cell("embedded, plain", "EmbeddedWriteBench.saveBatch100", kb("plain"), true)));
        return t;
    }

    /** The chart's bars: the side-by-side table, then 64 KB operations and the codec (no seed line). */
    public List<SvgBarChart.Bar> bars() {
        List<SvgBarChart.Bar> bars = new ArrayList<>();
        table().forEach((seed, cells) -> {
            String group = seed.operation() + " — 1 KB (seed " + seed.typical() + ")";
            for (Cell c : cells) {
                results.find(c.benchmark(), c.params()).ifPresent(r -> bars.add(new SvgBarChart.Bar(group, c.label(), r.micros(),
                        !c.ours() ? SvgBarChart.Kind.PEER : missed(r) ? SvgBarChart.Kind.OURS_MISSED : SvgBarChart.Kind.OURS,
                        c.ours() ? seed.upperMicros() : null)));
            }
        });
        String big = "64 KB entity (no seed line)";
        for (String p : List.of("zstd+aes", "plain")) {
            Map<String, String> k64 = Map.of("size", "65536", "pipeline", p);
            results.find("EmbeddedReadBench.readUncached", k64).ifPresent(r ->
                    bars.add(new SvgBarChart.Bar(big, "uncached read, " + p, r.micros(), SvgBarChart.Kind.OURS, null)));
            results.find("EmbeddedWriteBench.saveSync", k64).ifPresent(r ->
                    bars.add(new SvgBarChart.Bar(big, "SYNC save, " + p, r.micros(), SvgBarChart.Kind.OURS, null)));
        }
        results.find("PeerReadBench.sqliteReadById", Map.of("size", "65536")).ifPresent(r ->
                bars.add(new SvgBarChart.Bar(big, "SQLite read by id + JSON", r.micros(), SvgBarChart.Kind.PEER, null)));
        results.find("PeerWriteBench.fsyncAppend", Map.of("size", "65536")).ifPresent(r ->
                bars.add(new SvgBarChart.Bar(big, "fsync'ed append", r.micros(), SvgBarChart.Kind.PEER, null)));
        results.find("PeerWriteBench.sqliteFullUpsert", Map.of("size", "65536")).ifPresent(r ->
                bars.add(new SvgBarChart.Bar(big, "SQLite WAL FULL upsert", r.micros(), SvgBarChart.Kind.PEER, null)));
        for (String size : List.of("1024", "65536")) {
            for (String p : List.of("zstd+aes", "plain")) {
                Map<String, String> params = Map.of("size", size, "pipeline", p);
                String group = "Codec alone — " + (size.equals("1024") ? "1 KB" : "64 KB") + " (no seed line)";
                results.find("CodecBench.encode", params).ifPresent(r ->
                        bars.add(new SvgBarChart.Bar(group, "encode, " + p, r.micros(), SvgBarChart.Kind.OURS, null)));
                results.find("CodecBench.decode", params).ifPresent(r ->
                        bars.add(new SvgBarChart.Bar(group, "decode, " + p, r.micros(), SvgBarChart.Kind.OURS, null)));
            }
        }
        return bars;
    }

    /** Whether a target measured by this result was missed. */
    private boolean missed(Result r) {
        return outcomes.stream().anyMatch(o -> o.status() == Status.MISSED && o.target().value().secondary() == null
                && o.target().value().benchmark().equals(r.benchmark()) && r.matches(o.target().value().params()));
    }

    /** The whole {@code REPORT.md}. */
    public String markdown(String chartFile) {
        StringBuilder b = new StringBuilder();
        b.append("# ReliableStore benchmark report\n\n");
        b.append("Generated by `benchmarks/run.sh` from one JMH run; every peer was measured in the same run on the same ")
                .append("machine and disk, so the ratios below are more trustworthy than the absolute figures. ")
                .append("Do not edit by hand: rerun the script.\n\n");
        b.append("## Run and machine\n\n| | |\n|---|---|\n");
        run.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        b.append("\n## Targets\n\n");
        long missed = outcomes.stream().filter(o -> o.status() == Status.MISSED).count();
        long met = outcomes.stream().filter(o -> o.status() == Status.MET).count();
        long absent = outcomes.stream().filter(o -> o.status() == Status.NOT_MEASURED).count();
        b.append(met).append(" met, ").append(missed).append(" **MISSED**")
                .append(absent > 0 ? ", " + absent + " not measured in this run" : "").append(".\n\n");
        b.append("| target | ReliableStore | reference (same run) | measured | limit | result |\n|---|---:|---:|---:|---:|---|\n");
        for (Outcome o : outcomes) {
            Targets.Target t = o.target();
            b.append("| ").append(t.title()).append(" | ").append(quantity(t.value(), o.value())).append(" | ")
                    .append(t.reference() == null ? "—" : t.reference().label() + ": " + quantity(t.reference(), o.reference()))
                    .append(" | ").append(actual(o)).append(" | ").append(t.atMost() ? "≤ " : "≥ ").append(limit(t)).append(" | ")
                    .append(switch (o.status()) {
                        case MET -> "✅ met";
                        case MISSED -> "🔴 **MISSED**";
                        case NOT_MEASURED -> "not measured";
                    }).append(" |\n");
        }
        b.append("\n## The seed's table, side by side\n\n");
        b.append("![latency by operation and backend](").append(chartFile).append(")\n\n");
        b.append("Entity: an order document of 1 KB of JSON. Latencies are JMH averages (µs/op) of one thread, ")
                .append("unless stated. *zstd+aes* = compression with the per-type dictionary and AES-256-GCM; *plain* = JSON only.\n\n");
        b.append("\"MISSED\" here and a red bar in the chart mean that a ratio target of the benchmark issue (see Targets) ")
                .append("was missed by this figure, not that the seed's typical figure was.\n\n");
        b.append("| operation | seed (typical) | ReliableStore | peers, same run |\n|---|---|---|---|\n");
        table().forEach((seed, cells) -> {
            StringBuilder ours = new StringBuilder();
            StringBuilder peers = new StringBuilder();
            for (Cell c : cells) {
                Optional<Result> r = results.find(c.benchmark(), c.params());
                if (r.isEmpty()) {
                    continue;
                }
                StringBuilder into = c.ours() ? ours : peers;
                into.append(into.length() == 0 ? "" : "<br>").append(c.label()).append(": **").append(SvgBarChart.time(r.get().micros()))
                        .append("**").append(c.ours() && missed(r.get()) ? " (an issue target MISSED)" : "");
            }
            b.append("| ").append(seed.operation()).append(" | ").append(seed.typical()).append(" | ").append(ours).append(" | ")
                    .append(peers).append(" |\n");
        });
        b.append("\n## Single-writer latency distribution (sample mode, 1 KB)\n\n");
        b.append("| writer | p50 | p95 | p99 |\n|---|---:|---:|---:|\n");
        for (Cell c : List.of(
                new Cell("embedded SYNC save, zstd+aes", "EmbeddedWriteBench.saveSyncSample", kb("zstd+aes"), true),
                new Cell("embedded SYNC save, plain", "EmbeddedWriteBench.saveSyncSample", kb("plain"), true),
                new Cell("SQLite WAL synchronous=FULL", "PeerWriteBench.sqliteFullSample", KB, false),
                new Cell("RocksDB put, WAL sync=true", "PeerWriteBench.rocksdbSyncSample", KB, false),
                new Cell("fsync'ed append", "PeerWriteBench.fsyncAppendSample", KB, false),
                new Cell("fdatasync of an in-place overwrite of a preallocated file", "PeerWriteBench.fsyncOverwriteSample", KB, false))) {
            results.find(c.benchmark(), c.params()).ifPresent(r -> b.append("| ").append(c.label()).append(" | ")
                    .append(SvgBarChart.time(r.percentileMicros("50.0"))).append(" | ")
                    .append(SvgBarChart.time(r.percentileMicros("95.0"))).append(" | ")
                    .append(SvgBarChart.time(r.percentileMicros("99.0"))).append(" |\n"));
        }
        b.append("\n## Throughput with 1, 4 and 16 threads (SYNC saves, 1 KB)\n\n");
        b.append("| writer threads | embedded, zstd+aes | embedded, plain | SQLite WAL FULL | RocksDB sync=true |\n|---:|---:|---:|---:|---:|\n");
        for (String n : List.of("01", "04", "16")) {
            b.append("| ").append(Integer.parseInt(n)).append(" | ")
                    .append(rate("EmbeddedWriteBench.syncThroughput" + n, kb("zstd+aes"))).append(" | ")
                    .append(rate("EmbeddedWriteBench.syncThroughput" + n, kb("plain"))).append(" | ")
                    .append(n.equals("04") ? "—" : rate("PeerWriteBench.sqliteFullThroughput" + n, KB)).append(" | ")
                    .append(n.equals("04") ? "—" : rate("PeerWriteBench.rocksdbSyncThroughput" + n, KB)).append(" |\n");
        }
        b.append("\nGroup commit: concurrent SYNC writers share one fsync, so throughput grows with writers ")
                .append("while SQLite serialises them (one fsync per commit).\n");
        b.append("\n## Memory\n\n| pipeline | heap per stored 1 KB entity, registry | heap per cached 1 KB entity |\n|---|---:|---:|\n");
        for (String p : List.of("zstd+aes", "plain")) {
            Optional<Result> r = results.find("MemoryBench.heapPerEntity", Map.of("pipeline", p));
            r.ifPresent(x -> b.append("| ").append(p).append(" | ")
                    .append(String.format(Locale.ROOT, "%.0f B", x.secondary().getOrDefault("registryBytesPerEntity", Double.NaN)))
                    .append(" | ").append(String.format(Locale.ROOT, "%.0f B", x.secondary().getOrDefault("cacheBytesPerEntity", Double.NaN)))
                    .append(" |\n"));
        }
        b.append("\nHeap deltas after `System.gc()` (G1 full collections) with ")
                .append(results.find("MemoryBench.heapPerEntity", Map.of()).map(r -> r.params().get("entities")).orElse("?"))
                .append(" entities; the cache holds the decrypted JSON, the registry the stored envelope.\n");
        if (missed > 0) {
            b.append("\n## Missed targets: what the profiler shows\n\n");
            for (Outcome o : outcomes) {
                if (o.status() != Status.MISSED) {
                    continue;
                }
                b.append("### 🔴 MISSED: ").append(o.target().title()).append("\n\n");
                b.append("Measured ").append(actual(o)).append(" against a limit of ").append(o.target().atMost() ? "≤ " : "≥ ")
                        .append(limit(o.target())).append(".\n\n");
                notes.apply(o.target().id()).ifPresentOrElse(n -> b.append(n.strip()).append("\n\n"),
                        () -> b.append("_No reading of the profile has been written for this target yet._\n\n"));
                profiles.apply(o.target().id()).ifPresent(p -> b.append("<details><summary>JFR profile of `")
                        .append(o.target().value().benchmark()).append("`</summary>\n\n").append(p.strip()).append("\n\n</details>\n\n"));
            }
        }
        b.append("\n## Every result\n\n| benchmark | parameters | threads | score | ± error (99.9%) | unit |\n|---|---|---:|---:|---:|---|\n");
        for (Result r : results.all()) {
            b.append("| ").append(r.benchmark()).append(" | ").append(r.paramText()).append(" | ").append(r.threads()).append(" | ")
                    .append(num(r.score())).append(" | ").append(Double.isNaN(r.error()) ? "—" : num(r.error())).append(" | ")
                    .append(r.unit()).append(r.secondary().isEmpty() ? "" : secondary(r)).append(" |\n");
        }
        return b.toString();
    }

    private static String secondary(Result r) {
        StringBuilder b = new StringBuilder();
        r.secondary().forEach((k, v) -> b.append("<br>").append(k).append(" = ").append(num(v)));
        return b.toString();
    }

    private String rate(String benchmark, Map<String, String> params) {
        return results.find(benchmark, params).map(r -> String.format(Locale.ROOT, "%,.0f saves/s", r.score())).orElse("—");
    }

    private static String quantity(Targets.Measure m, double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        if (m.secondary() != null) {
            return String.format(Locale.ROOT, "%.0f B", v);
        }
        return m.throughput() ? String.format(Locale.ROOT, "%,.0f ops/s", v) : SvgBarChart.time(v);
    }

    private static String actual(Outcome o) {
        if (Double.isNaN(o.actual())) {
            return "—";
        }
        Targets.Target t = o.target();
        return switch (t.unit()) {
            case "×" -> String.format(Locale.ROOT, "%.2f ×", o.actual());
            case "µs" -> SvgBarChart.time(o.actual());
            default -> String.format(Locale.ROOT, "%.0f %s", o.actual(), t.unit());
        };
    }

    private static String limit(Targets.Target t) {
        return switch (t.unit()) {
            case "×" -> java.math.BigDecimal.valueOf(t.limit()).stripTrailingZeros().toPlainString() + " ×";
            case "µs" -> SvgBarChart.time(t.limit());
            default -> String.format(Locale.ROOT, "%.0f %s", t.limit(), t.unit());
        };
    }

    private static String num(double v) {
        if (Math.abs(v) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (Math.abs(v) >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
