package dev.reliablestore.benchmarks.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A JMH JSON entry as JMH writes it. */
    private static ObjectNode result(String benchmark, Map<String, String> params, double score, String unit) {
        ObjectNode n = JSON.createObjectNode();
        n.put("benchmark", "dev.reliablestore.benchmarks.suite." + benchmark);
        n.put("mode", unit.startsWith("ops") ? "thrpt" : "avgt");
        n.put("threads", 1);
        ObjectNode p = n.putObject("params");
        params.forEach(p::put);
        ObjectNode m = n.putObject("primaryMetric");
        m.put("score", score);
        m.put("scoreError", "NaN");
        m.put("scoreUnit", unit);
        n.putObject("secondaryMetrics");
        return n;
    }

    /** A sample-mode entry: its score percentiles as JMH writes them. */
    private static ObjectNode sample(String benchmark, Map<String, String> params, double p50, double p95, double p99) {
        ObjectNode n = result(benchmark, params, p50, "us/op");
        n.put("mode", "sample");
        ObjectNode pct = ((ObjectNode) n.get("primaryMetric")).putObject("scorePercentiles");
        pct.put("50.0", p50);
        pct.put("95.0", p95);
        pct.put("99.0", p99);
        return n;
    }

    private static JmhResults run() {
        ArrayNode a = JSON.createArrayNode();
        Map<String, String> kb = Map.of("size", "1024", "dir", "");
        Map<String, String> z = Map.of("size", "1024", "pipeline", "zstd+aes", "dir", "");
        a.add(result("EmbeddedReadBench.readCached", z, 0.03, "us/op"));
        a.add(result("PeerReadBench.caffeineGetIfPresent", kb, 0.02, "us/op"));
        Map<String, String> c = Map.of("size", "1024", "pipeline", "zstd+aes", "entities", "10000", "dir", "");
        a.add(result("CachedReadBench.cachedReadImmutable", c, 0.3, "us/op"));
        a.add(result("CachedReadBench.cachedReadMutable", c, 4.0, "us/op"));
        a.add(result("CachedReadBench.caffeineGetIfPresent", c, 0.2, "us/op"));
        a.add(result("EmbeddedReadBench.readUncached", z, 25, "us/op"));
        a.add(result("EmbeddedWriteBench.saveSync", z, 300, "us/op"));
        a.add(result("PeerWriteBench.fsyncAppend", kb, 120, "us/op"));
        a.add(result("EmbeddedWriteBench.syncThroughput01", z, 3_000, "ops/s"));
        a.add(result("EmbeddedWriteBench.syncThroughput16", z, 30_000, "ops/s"));
        a.add(sample("EmbeddedWriteBench.saveSyncSample", z, 180, 260, 400));
        a.add(sample("PeerWriteBench.sqliteFullSample", kb, 200, 300, 900));
        ObjectNode mem = result("MemoryBench.heapPerEntity", Map.of("pipeline", "zstd+aes", "entities", "20000"), 900, "ms/op");
        ((ObjectNode) mem.get("secondaryMetrics")).putObject("registryBytesPerEntity").put("score", 600.0);
        ((ObjectNode) mem.get("secondaryMetrics")).putObject("cacheBytesPerEntity").put("score", 2000.0);
        a.add(mem);
        return JmhResults.parse(a);
    }

    private static Targets.Outcome outcome(List<Targets.Outcome> all, String id) {
        return all.stream().filter(o -> o.target().id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void percentilesOfSampleModeFeedTheP50TargetsAndTheDistributionTable() {
        List<Targets.Outcome> o = Targets.evaluate(run());
        assertThat(outcome(o, "sync-vs-sqlite-p50").actual()).isCloseTo(0.9, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "sync-vs-sqlite-p50").status()).isEqualTo(Targets.Status.MET);
        assertThat(outcome(o, "sync-vs-rocksdb-p50-plain").status()).isEqualTo(Targets.Status.NOT_MEASURED);
        String md = new Report(run(), Map.of(), id -> Optional.empty(), id -> Optional.empty()).markdown("chart.svg");
        assertThat(md).contains("| embedded SYNC save, zstd+aes | 180 µs | 260 µs | 400 µs |")
                .contains("| SQLite WAL synchronous=FULL | 200 µs | 300 µs | 900 µs |");
    }

    /** `full` runs ZooKeeperBench with both pipelines, plain first: the targets judge the production one. */
    @Test
    void theZooKeeperReadAndWriteTargetsJudgeTheZstdAesPipeline() {
        ArrayNode a = JSON.createArrayNode();
        for (String pipeline : List.of("plain", "zstd+aes")) {
            Map<String, String> p = Map.of("nodes", "1", "pipeline", pipeline);
            double provider = pipeline.equals("plain") ? 100 : 400;
            a.add(result("ZooKeeperBench.readUncached", p, provider, "us/op"));
            a.add(result("ZooKeeperBench.saveSync", p, provider, "us/op"));
            a.add(result("ZooKeeperBench.rawGetData", p, 100, "us/op"));
            a.add(result("ZooKeeperBench.rawSetData", p, 100, "us/op"));
        }
        List<Targets.Outcome> o = Targets.evaluate(JmhResults.parse(a));
        assertThat(outcome(o, "zk-read-1").actual()).isCloseTo(4.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "zk-write-1").status()).isEqualTo(Targets.Status.MISSED);
        // and the report's cells labelled zstd+aes show that pipeline's figures
        String md = new Report(JmhResults.parse(a), Map.of(), id -> Optional.empty(), id -> Optional.empty()).markdown("chart.svg");
        assertThat(md).containsPattern("ZooKeeper 1 node, zstd\\+aes[^\\n]*400");
    }

    @Test
    void computesRatiosFromTheSameRunAndJudgesEachTarget() {
        List<Targets.Outcome> o = Targets.evaluate(run());
        assertThat(outcome(o, "cached-read").actual()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "cached-read").status()).isEqualTo(Targets.Status.MET);
        // the immutable record against the Caffeine get of its own class, not the peer class's
        assertThat(outcome(o, "cached-read-immutable").actual()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "cached-read-immutable").status()).isEqualTo(Targets.Status.MET);
        assertThat(outcome(o, "uncached-read-abs").status()).isEqualTo(Targets.Status.MISSED);
        assertThat(outcome(o, "sync-vs-fsync").actual()).isCloseTo(2.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "sync-vs-fsync").status()).isEqualTo(Targets.Status.MISSED);
        // throughput targets are "at least": 30,000 / 3,000 = 10 ≥ 6
        assertThat(outcome(o, "group-commit").actual()).isCloseTo(10, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(outcome(o, "group-commit").status()).isEqualTo(Targets.Status.MET);
        assertThat(outcome(o, "heap-registry").status()).isEqualTo(Targets.Status.MET);
        assertThat(outcome(o, "heap-cache").status()).isEqualTo(Targets.Status.MISSED);
        assertThat(outcome(o, "zk-read-3").status()).isEqualTo(Targets.Status.NOT_MEASURED);
    }

    @Test
    void markdownMarksMissesAndIncludesProfilesAndNotesOfMissesOnly() {
        Report r = new Report(run(), Map.of("CPU", "test"), id -> Optional.of("PROFILE-OF-" + id),
                id -> id.equals("sync-vs-fsync") ? Optional.of("the WAL writes twice") : Optional.empty());
        String md = r.markdown("chart.svg");
        assertThat(md).contains("🔴 **MISSED**").contains("✅ met").contains("PROFILE-OF-sync-vs-fsync")
                .contains("the WAL writes twice").doesNotContain("PROFILE-OF-cached-read").contains("![latency by operation and backend](chart.svg)");
        assertThat(md).contains("| 1 | 3,000 saves/s |");
        assertThat(md).contains("embedded, immutable record (shared instance): **").contains("embedded, mutable Order (fresh copy), same class: **")
                .contains("bare Caffeine getIfPresent, beside the two above: **");
        assertThat(r.bars()).anySatisfy(b -> {
            assertThat(b.label()).isEqualTo("embedded, zstd+aes");
            assertThat(b.group()).startsWith("Single Write (sync)");
            assertThat(b.kind()).isEqualTo(SvgBarChart.Kind.OURS_MISSED);
            assertThat(b.targetMicros()).isEqualTo(20_000.0);
        });
        assertThat(r.bars()).anySatisfy(b -> {
            assertThat(b.group()).startsWith("Single Read (cached)");
            assertThat(b.kind()).isEqualTo(SvgBarChart.Kind.OURS);
        });
    }

    @Test
    void convertsThroughputToMicrosecondsPerOperation() {
        JmhResults.Result t = run().find("EmbeddedWriteBench.syncThroughput01", Map.of()).orElseThrow();
        assertThat(t.micros()).isCloseTo(333.33, org.assertj.core.data.Offset.offset(0.01));
        assertThat(t.paramText()).doesNotContain("dir");
    }
}
