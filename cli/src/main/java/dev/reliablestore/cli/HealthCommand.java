package dev.reliablestore.cli;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code health}: probes the registry, lists nodes that are not up and health faults; the exit code says healthy or not. */
@Command(name = "health", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check the store's health: one probe of the registry (a quorum round trip where there is one), "
                + "node states, registered health faults and a restore into the store that did not finish. Healthy means: the probe "
                + "passed, every node is UP, there is a primary, no fault and no unfinished restore.",
                "Example: reliablestore health --store embedded:./data && echo healthy"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:healthy", "1:the store cannot be reached at all", "2:bad usage",
                "3:unhealthy: the probe failed, a node is not UP, no node is primary, health faults are registered, or a restore "
                        + "into the store did not finish"})
final class HealthCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
            if (!session.isCluster()) {
                session.counts(); // opens the directory: the lock and recovery must succeed
                if (json) {
                    out.println(Json.write(Json.object("healthy", true, "store", session.describe(), "detail",
                            "file store opened; it has no cluster to check", "problems", List.of(), "faults", List.of())));
                } else {
                    out.println("healthy: " + session.describe() + " opened (a file store has no cluster to check)");
                }
                out.flush();
                return ExitCodes.OK;
            }
            ClusterRegistry registry = session.registry("health");
            List<String> problems = new ArrayList<>();
            HealthReport report;
            try {
                report = registry.checkHealth();
            } catch (RuntimeException e) {
                report = new HealthReport(false, "probe failed: " + e.getMessage(), java.time.Duration.ZERO);
            }
            if (!report.healthy()) {
                problems.add("probe: " + report.detail());
            }
            ClusterStatus status = registry.status();
            for (NodeInfo n : status.nodes()) {
                if (n.state() != NodeState.UP) {
                    problems.add("node " + n.name() + " is " + n.state());
                }
            }
            if (status.primary().isEmpty()) {
                problems.add("no node is primary");
            }
            session.unfinishedRestore().ifPresent(m -> problems.add("UNFINISHED RESTORE: " + StoreSession.unfinishedRestore(m)));
            List<HealthFault> faults = registry.healthFaults();
            for (HealthFault f : faults) {
                problems.add("fault " + f.id() + " from " + f.provider() + ": " + f.description());
            }
            boolean healthy = problems.isEmpty();
            if (json) {
                List<Object> faultJson = new ArrayList<>();
                for (HealthFault f : faults) {
                    faultJson.add(Json.object("id", f.id(), "errorType", f.errorType(), "errorCode", f.errorCode(),
                            "description", f.description(), "provider", f.provider(), "flags", f.flags()));
                }
                out.println(Json.write(Json.object("healthy", healthy, "registry", registry.uri(), "probe", report.detail(),
                        "roundTripMillis", report.roundTrip().toNanos() / 1e6, "liveNodes", status.liveNodes(),
                        "nodes", status.nodes().size(), "problems", problems, "faults", faultJson)));
            } else {
                out.println((healthy ? "healthy: " : "UNHEALTHY: ") + registry.uri() + " (probe " + report.detail() + ", "
                        + String.format(java.util.Locale.ROOT, "%.1f ms", report.roundTrip().toNanos() / 1e6) + "; "
                        + status.liveNodes() + "/" + status.nodes().size() + " nodes up; " + faults.size() + " health fault(s))");
                problems.forEach(p -> out.println("  " + p));
            }
            out.flush();
            return healthy ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }
}
