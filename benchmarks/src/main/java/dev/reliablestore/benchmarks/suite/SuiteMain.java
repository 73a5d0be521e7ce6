package dev.reliablestore.benchmarks.suite;

import dev.reliablestore.benchmarks.report.JmhResults;
import dev.reliablestore.benchmarks.report.ProfileSummary;
import dev.reliablestore.benchmarks.report.Targets;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The suite's command line (used by {@code benchmarks/run.sh}):
 * <pre>
 * run     &lt;smoke|quick|full&gt; &lt;results.json&gt; [dir]   runs the mode's JMH runs, writes JMH JSON and results.json.run.properties
 * profile &lt;results.json&gt; &lt;profiles-dir&gt; [dir]        re-runs the benchmark of each missed target under JFR and
 *                                                  writes &lt;target-id&gt;.md with where its time goes
 * </pre>
 * {@code dir} is the directory (disk) file-backed benchmarks write to; default java.io.tmpdir.
 */
public final class SuiteMain {

    private SuiteMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("run")) {
            run(SuitePlan.Mode.parse(args[1]), Path.of(args[2]), args.length > 3 ? args[3] : "");
        } else if (args.length >= 3 && args[0].equals("profile")) {
            profile(Path.of(args[1]), Path.of(args[2]), args.length > 3 ? args[3] : "");
        } else {
            System.err.println("usage: SuiteMain run <smoke|quick|full> <results.json> [dir]\n"
                    + "       SuiteMain profile <results.json> <profiles-dir> [dir]");
            System.exit(2);
        }
    }

    /** Runs every JMH run of the mode and returns all results; writes them as JMH JSON to {@code json}. */
    public static List<RunResult> run(SuitePlan.Mode mode, Path json, String dir) throws RunnerException, IOException {
        Properties meta = new Properties();
        meta.setProperty("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
        meta.setProperty("started", Instant.now().toString());
        meta.setProperty("loadStart", loadAverage());
        Instant t0 = Instant.now();
        List<RunResult> all = new ArrayList<>();
        List<SuitePlan.Run> runs = SuitePlan.runs(mode, dir);
        if (mode == SuitePlan.Mode.SMOKE && Boolean.getBoolean("jmh.ignoreLock")) {
            all.addAll(smokeSideBySide(runs));
        } else {
            for (SuitePlan.Run r : runs) {
                all.addAll(runWhenFree(new Runner(SuitePlan.options(mode, r).build())));
            }
        }
        write(all, json);
        meta.setProperty("loadEnd", loadAverage());
        meta.setProperty("duration", Duration.between(t0, Instant.now()).toSeconds() + " s");
        meta.setProperty("dir", dir.isEmpty() ? System.getProperty("java.io.tmpdir") : dir);
        try (OutputStream out = Files.newOutputStream(Path.of(json + ".run.properties"))) {
            meta.store(out, "facts about the run, read by the report");
        }
        return all;
    }

    /**
     * Smoke mode's runs, the first alone and the others two at a time. A smoke score is only checked to exist, and most
     * of a smoke run is setups waiting on ZooKeeper, SQLite and fsync, which leave the other core idle. The first
     * (MemoryBench, see {@link SuitePlan#runs}) measures heap deltas that anything running beside it would move. Only
     * with the JMH lock ignored: otherwise each run would wait for the other's lock.
     */
    static List<RunResult> smokeSideBySide(List<SuitePlan.Run> runs) throws RunnerException {
        List<RunResult> all = new ArrayList<>(runWhenFree(new Runner(SuitePlan.options(SuitePlan.Mode.SMOKE, runs.get(0)).build())));
        ExecutorService lanes = Executors.newFixedThreadPool(2);
        try {
            List<Future<Collection<RunResult>>> results = new ArrayList<>();
            for (SuitePlan.Run r : runs.subList(1, runs.size())) {
                results.add(lanes.submit(() -> runWhenFree(new Runner(SuitePlan.options(SuitePlan.Mode.SMOKE, r).build()))));
            }
            for (Future<Collection<RunResult>> f : results) {
                all.addAll(f.get());
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RunnerException re) {
                throw re;
            }
            throw new RunnerException("a smoke run failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunnerException("interrupted", e);
        } finally {
            lanes.shutdownNow();
        }
        return all;
    }

    /**
     * Runs, waiting (up to 15 minutes) while another JMH run on this machine holds JMH's lock: two
     * benchmark runs at once would disturb each other's figures. {@code -Djmh.ignoreLock=true} skips the wait.
     */
    static Collection<RunResult> runWhenFree(Runner runner) throws RunnerException {
        long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
        while (true) {
            try {
                return runner.run();
            } catch (RunnerException e) {
                if (!String.valueOf(e.getMessage()).contains("Unable to acquire the JMH lock") || System.nanoTime() > deadline) {
                    throw e;
                }
                System.out.println("another JMH run holds the lock; waiting for it to finish");
                try {
                    Thread.sleep(5_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Writes results in JMH's JSON format. */
    public static void write(Collection<RunResult> results, Path json) throws IOException {
        if (json.getParent() != null) {
            Files.createDirectories(json.getParent());
        }
        try (PrintStream out = new PrintStream(Files.newOutputStream(json), true, StandardCharsets.UTF_8)) {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, out).writeOut(results);
        }
    }

    /** Profiles the benchmark behind each missed time target (heap targets are not a CPU question). */
    static void profile(Path json, Path profilesDir, String dir) throws Exception {
        JmhResults results = JmhResults.read(json);
        Files.createDirectories(profilesDir);
        Map<Targets.Measure, List<String>> byMeasure = new LinkedHashMap<>();
        for (Targets.Outcome o : Targets.evaluate(results)) {
            if (o.status() == Targets.Status.MISSED && o.target().value().secondary() == null) {
                byMeasure.computeIfAbsent(o.target().value(), k -> new ArrayList<>()).add(o.target().id());
            }
        }
        for (Map.Entry<Targets.Measure, List<String>> e : byMeasure.entrySet()) {
            Targets.Measure m = e.getKey();
            JmhResults.Result measured = results.find(m.benchmark(), m.params()).orElseThrow();
            // by class and method in any package: the benchmarks live beside what they measure (suite, peers, cluster.geo …)
            String include = "\\." + m.benchmark().replace(".", "\\.") + "$";
            Path jfrDir = Files.createTempDirectory("rs-jfr");
            ChainedOptionsBuilder o = SuitePlan.options(SuitePlan.Mode.QUICK, new SuitePlan.Run(include, Map.of()))
                    .measurementIterations(2).measurementTime(TimeValue.seconds(2))
                    .addProfiler("jfr", "dir=" + jfrDir);
            measured.params().forEach((k, v) -> o.param(k, k.equals("dir") && !dir.isEmpty() ? dir : v));
            System.out.println("profiling " + m.benchmark() + " " + measured.paramText() + " for " + e.getValue());
            runWhenFree(new Runner(o.build()));
            Path jfr;
            try (Stream<Path> files = Files.walk(jfrDir)) {
                jfr = files.filter(p -> p.toString().endsWith(".jfr")).findFirst()
                        .orElseThrow(() -> new IllegalStateException("JMH's jfr profiler wrote no recording under " + jfrDir));
            }
            String summary = "Benchmark `" + m.benchmark() + "` (" + measured.paramText() + "), profiled with JMH `-prof jfr`; "
                    + ProfileSummary.read(jfr).markdown(12);
            for (String id : e.getValue()) {
                Files.writeString(profilesDir.resolve(id + ".md"), summary);
            }
            dev.reliablestore.benchmarks.suite.Stores.delete(jfrDir);
        }
    }

    /** {@code /proc/loadavg}'s three averages, or "unknown" off Linux. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
