package dev.reliablestore.cli;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** The README's main job: a short walk through the store API with timings. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Open an embedded cluster-registry store (compressed and encrypted) in a local folder and walk through "
                + "save, read, versioned update, conflict, batch and delete, printing what happened and how long each step took. "
                + "Runs again in the same folder (the demo's own entities are cleared first).",
                "Example: java -jar cli/target/reliablestore.jar demo --dir reliablestore-demo"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:the walk-through completed", "1:a step failed"})
final class DemoCommand implements Callable<Integer> {

    /** The entity the demo stores. */
    record Customer(String name, String tier, List<String> contacts, Instant since) {
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", defaultValue = "reliablestore-demo",
            description = "Folder the demo store lives in (created if missing). Default: ${DEFAULT-VALUE}")
    Path dir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DemoStore demo = DemoStore.in(dir);
        try (StoreFactory factory = demo.open(); EntityStore<Customer> customers = factory.store(Customer.class)) {
            out.printf("ReliableStore demo: provider \"%s\", %s%n", demo.provider(), demo.description());
            out.printf("pipeline: %s%n", demo.pipeline());
            step(out, "clear", () -> "removed " + customers.clear() + " entities left by an earlier run");

            Customer acme = new Customer("Acme Corp", "Premium", List.of("ops@acme.example"), Instant.parse("2024-01-15T09:30:00Z"));
            long v1 = step(out, "save", () -> customers.save("CUST-001", acme), v -> "CUST-001 -> version " + v);

            Optional<Versioned<Customer>> read = step(out, "get", () -> customers.get("CUST-001"),
                    r -> "CUST-001 -> " + r.map(x -> x.value().name() + " (" + x.value().tier() + "), version " + x.version()).orElse("absent"));

            Customer upgraded = new Customer(acme.name(), "Enterprise", acme.contacts(), acme.since());
            long v2 = step(out, "update", () -> customers.save("CUST-001", upgraded, read.orElseThrow().version()),
                    v -> "CUST-001 expecting version " + v1 + " -> version " + v);

            step(out, "conflict", () -> {
                try {
                    customers.save("CUST-001", acme, v1);
                    throw new IllegalStateException("a stale version was accepted");
                } catch (ConcurrencyConflictException e) {
                    return "CUST-001 expecting stale version " + e.expectedVersion() + " -> rejected, the store holds version "
                            + e.actualVersion() + " (nothing written)";
                }
            });

            Map<String, Customer> batch = new LinkedHashMap<>();
            for (int i = 2; i <= 4; i++) {
                batch.put(String.format("CUST-%03d", i), new Customer("Customer " + i, "Standard", List.of(), Instant.EPOCH));
            }
            step(out, "batch", () -> customers.saveBatch(batch), versions -> "saved " + versions.size() + " customers atomically " + versions);
            step(out, "count", customers::count, n -> n + " customers, " + customers.count(c -> c.tier().equals("Enterprise")) + " Enterprise");
            step(out, "delete", () -> {
                customers.delete("CUST-001", v2);
                return "CUST-001 at version " + v2 + " -> deleted";
            });
            step(out, "get", () -> customers.get("CUST-001"), r -> "CUST-001 -> " + (r.isPresent() ? "still there!" : "absent"));
            step(out, "delete", () -> customers.delete("CUST-404"), deleted -> "CUST-404 -> " + (deleted ? "deleted" : "nothing to delete (reported as false)"));

            PerformanceMetrics m = customers.performanceMetrics();
            out.printf("metrics: %d reads (p50 %s, p99 %s), %d writes (p50 %s, p99 %s), %d conflicts, %d -> %d bytes after compression%n",
                    m.reads(), micros(m.p50ReadLatency().toNanos()), micros(m.p99ReadLatency().toNanos()),
                    m.writes(), micros(m.p50WriteLatency().toNanos()), micros(m.p99WriteLatency().toNanos()), m.conflicts(),
                    m.bytesBeforeCompression(), m.bytesAfterCompression());
            out.printf("next: java -jar cli/target/reliablestore.jar list %s --type Customer%n", demo.storeOptions());
        }
        out.flush();
        return 0;
    }

    private static void step(PrintWriter out, String name, Supplier<String> action) {
        step(out, name, action, s -> s);
    }

    private static <R> R step(PrintWriter out, String name, Supplier<R> action, java.util.function.Function<R, Object> describe) {
        long start = System.nanoTime();
        R result = action.get();
        long took = System.nanoTime() - start;
        out.printf("  %-9s %-95s %12s%n", name, describe.apply(result), micros(took));
        out.flush();
        return result;
    }

    private static String micros(long nanos) {
        return nanos >= 1_000_000 ? String.format("%.2f ms", nanos / 1e6) : String.format("%.1f µs", nanos / 1e3);
    }
}
