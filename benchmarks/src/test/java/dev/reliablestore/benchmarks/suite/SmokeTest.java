package dev.reliablestore.benchmarks.suite;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmh.results.RunResult;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the suite's smoke mode (one short iteration of every benchmark, in this JVM, two JMH runs at a time) through the
 * JMH Runner API, so that a benchmark that no longer runs fails the build. Asserts nothing about
 * speed: only that every benchmark of the plan produced a finite, positive score.
 */
class SmokeTest {

    private static final String ZOOKEEPER_FORCE_SYNC = "zookeeper.forceSync";

    @Test
    void everyBenchmarkOfTheSuiteProducesAResult(@TempDir Path dir) throws Exception {
        // CI runs nothing else; on a shared machine another helper's JMH run must not block this check (and without the
        // lock, smoke mode runs two runs side by side)
        System.setProperty("jmh.ignoreLock", "true");
        // the in-process ZooKeeper servers' setups write some 12,000 znodes one at a time, each waiting for its fsync,
        // and a smoke run checks no durability (ZooKeeper reads the property when a server opens its log)
        String forceSync = System.getProperty(ZOOKEEPER_FORCE_SYNC);
        System.setProperty(ZOOKEEPER_FORCE_SYNC, "no");
        List<RunResult> results;
        try {
            results = SuiteMain.run(SuitePlan.Mode.SMOKE, dir.resolve("smoke.json"), dir.toString());
        } finally {
            if (forceSync == null) {
                System.clearProperty(ZOOKEEPER_FORCE_SYNC);
            } else {
                System.setProperty(ZOOKEEPER_FORCE_SYNC, forceSync);
            }
        }

        Map<String, Double> scores = results.stream().collect(Collectors.toMap(
                r -> r.getParams().getBenchmark(), r -> r.getPrimaryResult().getScore(), (a, b) -> a));
        assertThat(scores.keySet()).containsExactlyInAnyOrderElementsOf(SuitePlan.allBenchmarks());
        assertThat(scores).allSatisfy((name, score) -> assertThat(score).as(name).isPositive().isFinite());
        RunResult memory = results.stream().filter(r -> r.getParams().getBenchmark().endsWith("MemoryBench.heapPerEntity"))
                .findFirst().orElseThrow();
        assertThat(memory.getSecondaryResults()).containsKeys("registryBytesPerEntity", "cacheBytesPerEntity");
        assertThat(memory.getSecondaryResults().get("registryBytesPerEntity").getScore()).isPositive();
        assertThat(dir.resolve("smoke.json")).isNotEmptyFile();
    }
}
