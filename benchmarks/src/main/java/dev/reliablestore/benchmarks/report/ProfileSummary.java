package dev.reliablestore.benchmarks.report;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where a benchmark's threads spend their time, from a JFR recording: execution samples (Java
 * code on CPU) and native-method samples (e.g. blocked in {@code fsync}) of the JMH worker threads,
 * aggregated by the top frame (self) and by every frame on the stack (total).
 */
public final class ProfileSummary {

    /** Frames of these packages are counted in the "total" table; the rest (JDK, JMH) is plumbing. */
    private static final List<String> INTERESTING = List.of("dev.reliablestore.", "com.fasterxml.", "com.github.luben.",
            "com.github.benmanes.", "javax.crypto.", "com.sun.crypto.", "sun.nio.ch.", "org.sqlite.", "org.apache.zookeeper.",
            "org.apache.curator.", "java.util.zip.", "org.bouncycastle.");

    private final int samples;
    private final Map<String, Integer> self;
    private final Map<String, Integer> total;

    private ProfileSummary(int samples, Map<String, Integer> self, Map<String, Integer> total) {
        this.samples = samples;
        this.self = self;
        this.total = total;
    }

    /** Reads the recording, keeping only samples of JMH worker threads. */
    public static ProfileSummary read(Path jfr) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        int n = 0;
        try (RecordingFile f = new RecordingFile(jfr)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                String type = e.getEventType().getName();
                if (!type.equals("jdk.ExecutionSample") && !type.equals("jdk.NativeMethodSample")) {
                    continue;
                }
                RecordedThread t = e.getThread("sampledThread");
                if (t == null || t.getJavaName() == null || !t.getJavaName().contains("jmh-worker")) {
                    continue;
                }
                RecordedStackTrace st = e.getStackTrace();
                if (st == null || st.getFrames().isEmpty()) {
                    continue;
                }
                n++;
                List<RecordedFrame> frames = st.getFrames();
                self.merge(name(frames.get(0)), 1, Integer::sum);
                Set<String> seen = new HashSet<>();
                for (RecordedFrame fr : frames) {
                    String m = name(fr);
                    if (interesting(m) && seen.add(m)) {
                        total.merge(m, 1, Integer::sum);
                    }
                }
            }
        }
        return new ProfileSummary(n, self, total);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static boolean interesting(String method) {
        return INTERESTING.stream().anyMatch(method::startsWith);
    }

    /** Samples of worker threads in the recording. */
    public int samples() {
        return samples;
    }

    /** The {@code n} methods most often on top of the stack, with their share of samples. */
    public Map<String, Double> topSelf(int n) {
        return top(self, n);
    }

    /** The {@code n} library and project methods most often anywhere on the stack. */
    public Map<String, Double> topTotal(int n) {
        return top(total, n);
    }

    private Map<String, Double> top(Map<String, Integer> counts, int n) {
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(n)
                .collect(Collectors.toMap(Map.Entry::getKey, e -> 100.0 * e.getValue() / Math.max(1, samples),
                        (a, b) -> a, LinkedHashMap::new));
    }

    /** A Markdown rendering: two small tables. */
    public String markdown(int n) {
        StringBuilder b = new StringBuilder();
        b.append(samples).append(" samples of the benchmark threads (JFR execution + native-method samples).\n\n");
        b.append("| self % | top frame |\n|---:|---|\n");
        topSelf(n).forEach((m, p) -> b.append(String.format(Locale.ROOT, "| %.1f | `%s` |%n", p, m)));
        b.append("\n| total % | project / library frame on the stack |\n|---:|---|\n");
        topTotal(n).forEach((m, p) -> b.append(String.format(Locale.ROOT, "| %.1f | `%s` |%n", p, m)));
        return b.toString();
    }
}
