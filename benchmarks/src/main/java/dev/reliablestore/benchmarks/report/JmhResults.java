package dev.reliablestore.benchmarks.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The results of a JMH run, read from its JSON output ({@code -rf json}). */
public final class JmhResults {

    /**
     * One benchmark result.
     *
     * @param benchmark  {@code SimpleClassName.method}
     * @param params     the JMH parameters of the trial
     * @param mode       JMH mode ({@code avgt}, {@code thrpt}, {@code ss}, …)
     * @param threads    benchmark threads
     * @param score      primary score
     * @param error      the score's 99.9% error half-width (NaN with too few iterations)
     * @param unit       the score's unit ({@code us/op}, {@code ops/s}, …)
     * @param secondary  secondary scores by name (e.g. AuxCounters)
     * @param percentiles the score's percentiles in its unit, by JMH's key ({@code "50.0"}, {@code "99.0"}, …; sample mode)
     */
    public record Result(String benchmark, Map<String, String> params, String mode, int threads, double score, double error,
                         String unit, Map<String, Double> secondary, Map<String, Double> percentiles) {

        /** A percentile ({@code "50.0"}, {@code "95.0"}, {@code "99.0"}) in µs/op, or NaN when the run has none (not sample mode). */
        public double percentileMicros(String percentile) {
            Double v = percentiles.get(percentile);
            if (v == null || !unit.endsWith("/op")) {
                return Double.NaN;
            }
            return switch (unit) {
                case "ns/op" -> v / 1000;
                case "us/op" -> v;
                case "ms/op" -> v * 1000;
                case "s/op" -> v * 1_000_000;
                default -> Double.NaN;
            };
        }

        /** Whether every given parameter has the given value here. */
        public boolean matches(Map<String, String> wanted) {
            for (Map.Entry<String, String> e : wanted.entrySet()) {
                if (!e.getValue().equals(params.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }

        /** The score converted to microseconds per operation, for time and throughput modes. */
        public double micros() {
            return switch (unit) {
                case "ns/op" -> score / 1000;
                case "us/op" -> score;
                case "ms/op" -> score * 1000;
                case "s/op" -> score * 1_000_000;
                case "ops/s" -> 1_000_000 / score;
                case "ops/ms" -> 1000 / score;
                case "ops/us" -> 1 / score;
                default -> throw new IllegalStateException("unit " + unit + " of " + benchmark + " is not a time or a rate");
            };
        }

        /** The parameters that tell trials of this benchmark apart ("dir" is left out). */
        public String paramText() {
            StringBuilder b = new StringBuilder();
            params.forEach((k, v) -> {
                if (!k.equals("dir")) {
                    b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v);
                }
            });
            return b.toString();
        }
    }

    private final List<Result> results;

    JmhResults(List<Result> results) {
        this.results = List.copyOf(results);
    }

    /** Reads JMH's JSON result file. */
    public static JmhResults read(Path json) throws IOException {
        return parse(new ObjectMapper().readTree(json.toFile()));
    }

    /** Parses JMH's JSON result array. */
    public static JmhResults parse(JsonNode root) {
        if (!root.isArray()) {
            throw new IllegalArgumentException("a JMH JSON result is an array of benchmarks; got " + root.getNodeType());
        }
        List<Result> out = new ArrayList<>();
        for (JsonNode n : root) {
            String full = n.path("benchmark").asText();
            String[] parts = full.split("\\.");
            String name = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : full;
            Map<String, String> params = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = n.path("params").fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                params.put(e.getKey(), e.getValue().asText());
            }
            JsonNode primary = n.path("primaryMetric");
            Map<String, Double> secondary = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> sit = n.path("secondaryMetrics").fields();
            while (sit.hasNext()) {
                Map.Entry<String, JsonNode> e = sit.next();
                secondary.put(e.getKey(), e.getValue().path("score").asDouble());
            }
            Map<String, Double> percentiles = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> pit = primary.path("scorePercentiles").fields();
            while (pit.hasNext()) {
                Map.Entry<String, JsonNode> e = pit.next();
                percentiles.put(e.getKey(), number(e.getValue()));
            }
            out.add(new Result(name, Collections.unmodifiableMap(params), n.path("mode").asText(), n.path("threads").asInt(1),
                    primary.path("score").asDouble(), number(primary.path("scoreError")), primary.path("scoreUnit").asText(),
                    Collections.unmodifiableMap(secondary), Collections.unmodifiableMap(percentiles)));
        }
        return new JmhResults(out);
    }

    private static double number(JsonNode n) {
        return n.isNumber() ? n.asDouble() : Double.NaN; // JMH writes "NaN" as a string
    }

    /** Every result, in run order. */
    public List<Result> all() {
        return results;
    }

    /** The result of {@code benchmark} ({@code Class.method}) whose parameters include {@code params}. */
    public Optional<Result> find(String benchmark, Map<String, String> params) {
        return results.stream().filter(r -> r.benchmark().equals(benchmark) && r.matches(params)).findFirst();
    }
}
