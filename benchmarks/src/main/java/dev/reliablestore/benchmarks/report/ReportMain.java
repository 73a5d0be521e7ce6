package dev.reliablestore.benchmarks.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Renders {@code REPORT.md} and {@code chart.svg} from a JMH JSON result:
 * {@code ReportMain <results.json> <out-dir>}. Reads the run's facts from
 * {@code <results.json>.run.properties}, JFR summaries of missed targets from
 * {@code <out-dir>/profiles/<id>.md} and their hand-written reading from {@code <out-dir>/notes/<id>.md}.
 */
public final class ReportMain {

    private ReportMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ReportMain <results.json> <out-dir>");
            System.exit(2);
        }
        Path json = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Report report = render(json, out, machine(json));
        long missed = report.outcomes().stream().filter(o -> o.status() == Targets.Status.MISSED).count();
        System.out.println("wrote " + out.resolve("REPORT.md") + " and " + out.resolve("chart.svg") + ": "
                + report.outcomes().stream().filter(o -> o.status() == Targets.Status.MET).count() + " targets met, "
                + missed + " missed");
    }

    /** Writes REPORT.md and chart.svg into {@code out}. */
    public static Report render(Path json, Path out, Map<String, String> run) throws IOException {
        Files.createDirectories(out);
        Report report = new Report(JmhResults.read(json), run, id -> read(out.resolve("profiles").resolve(id + ".md")),
                id -> read(out.resolve("notes").resolve(id + ".md")));
        Files.writeString(out.resolve("chart.svg"), SvgBarChart.render("ReliableStore latency by operation and backend (1 KB entity unless noted)",
                report.bars()));
        Files.writeString(out.resolve("REPORT.md"), report.markdown("chart.svg"));
        return report;
    }

    private static Optional<String> read(Path p) {
        try {
            return Files.exists(p) ? Optional.of(Files.readString(p)) : Optional.empty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Facts about the run and the machine. */
    static Map<String, String> machine(Path json) throws IOException {
        Properties meta = new Properties();
        Path metaFile = Path.of(json + ".run.properties");
        if (Files.exists(metaFile)) {
            try (InputStream in = Files.newInputStream(metaFile)) {
                meta.load(in);
            }
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put("command", "`benchmarks/run.sh " + meta.getProperty("mode", "?") + "`");
        m.put("started", meta.getProperty("started", "?"));
        m.put("duration", meta.getProperty("duration", "?"));
        m.put("load average (1/5/15 min) at start → end", meta.getProperty("loadStart", "?") + " → " + meta.getProperty("loadEnd", "?")
                + " (" + Runtime.getRuntime().availableProcessors() + " cores; above the core count means other processes "
                + "competed for the CPU)");
        m.put("commit", Optional.ofNullable(System.getenv("RS_COMMIT")).orElse("?"));
        m.put("CPU", cpu());
        m.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        m.put("memory", memory());
        m.put("JDK", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        String dir = meta.getProperty("dir", System.getProperty("java.io.tmpdir"));
        m.put("benchmark files in", "`" + dir + "` (" + fileStore(dir) + ")");
        return m;
    }

    private static String cpu() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            return lines.stream().filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String memory() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / (1024 * 1024) + " GiB").orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String fileStore(String dir) {
        try {
            java.nio.file.FileStore s = Files.getFileStore(Path.of(dir));
            return s.type() + " on " + s.name();
        } catch (IOException | RuntimeException e) {
            return "file system unknown";
        }
    }
}
