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
 * Runs the suite's smoke mode (one short iteration of every benchmark, in this JVM) through the
 * JMH Runner API, so that a benchmark that no longer runs fails the build. Asserts nothing about
 * speed: only that every benchmark of the plan produced a finite, positive score.
 */
class SmokeTest {

    @Test
    void everyBenchmarkOfTheSuiteProducesAResult(@TempDir Path dir) throws Exception {
        // CI runs nothing else; on a shared machine another helper's JMH run must not block this check
        System.setProperty("jmh.ignoreLock", "true");
        List<RunResult> results = SuiteMain.run(SuitePlan.Mode.SMOKE, dir.resolve("smoke.json"), dir.toString());

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
