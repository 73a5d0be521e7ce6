package dev.reliablestore.cli;

import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.NodeInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code status}: backend, nodes and their states, primary, layout version, entities per type. */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show the store: backend, nodes and their states, primary, layout version, a restore into it that did "
                + "not finish, and entities per type.",
                "Example: reliablestore status --store zookeeper://zk1:2181,zk2:2181/reliablestore"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:shown", "1:the store cannot be reached", "2:bad usage"})
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--json", description = "Print the status as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
            Map<String, Long> counts = session.counts();
            long total = counts.values().stream().mapToLong(Long::longValue).sum();
            if (!session.isCluster()) {
                if (json) {
                    out.println(Json.write(Json.object("provider", "file", "store", session.describe(), "types", counts, "entities", total)));
                } else {
                    out.println("provider:  file");
                    out.println("store:     " + session.describe());
                    printCounts(out, counts, total);
                }
                out.flush();
                return ExitCodes.OK;
            }
            ClusterRegistry registry = session.registry("status");
            ClusterStatus status = registry.status();
            Optional<Integer> layout = session.layoutVersion();
            Optional<RestoreMarker> unfinished = session.unfinishedRestore();
            long sequence = registry.currentSequence();
            if (json) {
                List<Object> nodes = new ArrayList<>();
                for (NodeInfo n : status.nodes()) {
                    nodes.add(Json.object("name", n.name(), "state", n.state().name()));
                }
                out.println(Json.write(Json.object("provider", "cluster-registry", "backend", status.backend(), "registry", registry.uri(),
                        "root", session.layout().root().toString(), "localNode", status.localNode(),
                        "primary", status.primary().orElse(null), "nodes", nodes, "liveNodes", status.liveNodes(),
                        "layoutVersion", layout.orElse(null), "unfinishedRestore", unfinished.map(m -> Json.object("started", m.started(),
                                "host", m.host(), "user", m.user(), "backup", m.backup(), "source", m.source(), "sequence", m.sequence()))
                                .orElse(null), "sequence", sequence, "types", counts, "entities", total)));
            } else {
                out.println("provider:  cluster-registry");
                out.println("backend:   " + status.backend() + " (" + registry.uri() + ")");
                out.println("root:      " + session.layout().root());
                out.println("layout:    " + layout.map(v -> "version " + v).orElse("none (nothing stored under this root yet)"));
                unfinished.ifPresent(m -> out.println("restore:   UNFINISHED RESTORE: " + StoreSession.unfinishedRestore(m)));
                out.println("sequence:  " + sequence);
                out.println("primary:   " + status.primary().orElse("none"));
                out.println("local:     " + status.localNode());
                out.println("nodes:     " + status.liveNodes() + " of " + status.nodes().size() + " up");
                for (NodeInfo n : status.nodes()) {
                    out.println("  " + n.name() + "\t" + n.state() + (status.primary().filter(n.name()::equals).isPresent() ? "\tprimary" : ""));
                }
                printCounts(out, counts, total);
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    private static void printCounts(PrintWriter out, Map<String, Long> counts, long total) {
        out.println("entities:  " + total + " in " + counts.size() + " type(s)");
        counts.forEach((t, n) -> out.println("  " + t + "\t" + n));
    }
}
