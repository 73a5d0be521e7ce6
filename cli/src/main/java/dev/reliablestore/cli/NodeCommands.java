package dev.reliablestore.cli;

import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.NodeOperationRefusedException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code failover}, {@code drain} and {@code resume}: an administrator moves the primary role. What a
 * node is on each backend is in docs/reliability.md ("Administrator-initiated failover and drain").
 */
final class NodeCommands {

    private NodeCommands() {
    }

    /** Runs one node operation on a cluster-registry store; a refusal exits with the code its reason calls for. */
    private static int run(NodeCommand c, String command, Consumer<ClusterStoreAdmin> operation,
                           Function<ClusterStatus, String> report,
                           Function<ClusterStatus, Map<String, Object>> json) {
        StoreOptions store = c.store;
        CommandSpec spec = c.spec;
        PrintWriter out = spec.commandLine().getOut();
        // the session's connection never runs for primary (StoreSession.toolRegistryOptions): it is not handed the role it moves
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
            ClusterStoreAdmin admin = session.stored(command);
            try {
                operation.accept(admin);
            } catch (NodeOperationRefusedException e) {
                String message = command + " refused (" + e.reason() + "): " + e.getMessage();
                throw switch (e.reason()) {
                    case UNSUPPORTED -> CliException.usage(message);
                    case TIMED_OUT -> CliException.failed(message, e);
                    default -> CliException.check(message);
                };
            }
            ClusterStatus status = session.registry(command).status();
            out.println(c.json ? Json.write(json.apply(status)) : report.apply(status));
            out.flush();
            return ExitCodes.OK;
        }
    }

    private static final String EXIT_OK = "0:done";
    private static final String EXIT_FAILED = "1:the store cannot be reached, or the move did not complete within the failover timeout";
    private static final String EXIT_USAGE = "2:bad usage, a file store, or a backend with one node (embedded)";
    private static final String EXIT_REFUSED = "3:refused: the reason (UNKNOWN_NODE, NOT_UP, DRAINED, UNHEALTHY, NOT_CAUGHT_UP, ALREADY_PRIMARY, "
            + "NO_TARGET, NOT_DRAINED, IN_PROGRESS) and its values are printed; nothing moved";

    /** What every node command takes: the store. */
    abstract static class NodeCommand implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        StoreOptions store;

        @Option(names = "--json", description = "Print the result as one JSON object.")
        boolean json;
    }

    /** The JSON result: what the command did, then the primary this command's connection sees afterwards. */
    private static Map<String, Object> result(String key, String node, ClusterStatus status) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(key, node);
        out.put("primary", status.primary().orElse(null));
        return out;
    }

    /** A command on one named node. */
    abstract static class OnNode extends NodeCommand {

        @Parameters(paramLabel = "NODE", description = "The node.")
        String node;
    }

    @Command(name = "failover", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Move the primary role to another node, after validating it: the target must be up, not drained, healthy and caught up "
                    + "(it has seen the commit sequence the store had when the command started). Without --to, the most preferred other node that is up "
                    + "and not drained. Every store of the cluster then reports NodeFailover with requested=true.",
                    "Example: reliablestore failover --store zookeeper://zk1:2181/reliablestore --to app-2"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED})
    static final class Failover extends NodeCommand {

        @Option(names = "--to", paramLabel = "NODE", description = "The node to make primary (default: the most preferred other node that is up and not drained).")
        String to;

        @Override
        public Integer call() {
            String[] moved = new String[1];
            return run(this, "failover", admin -> moved[0] = admin.failover(Optional.ofNullable(to)),
                    status -> "primary is now " + moved[0] + " (validated: up, not drained, healthy, caught up); primary seen by this command: "
                            + status.primary().orElse("none"),
                    status -> result("movedTo", moved[0], status));
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Drain a node: it gives up the primary role (which moves to another node) and does not take it again until 'resume NODE'. "
                    + "It shows as PAUSED in status and health.",
                    "Example: reliablestore drain --store zookeeper://zk1:2181/reliablestore app-1"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED})
    static final class Drain extends OnNode {

        @Override
        public Integer call() {
            return run(this, "drain", admin -> admin.drain(node),
                    status -> "drained " + node + "; primary is " + status.primary().orElse("none") + "; 'resume " + node + "' lets it take the role again",
                    status -> result("drained", node, status));
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Resume a drained node: it may become the primary again (the role does not move back by itself, "
                    + "except where the backend's own preference says so, e.g. ZooKeeper's nodeAffinity).",
                    "Example: reliablestore resume --store zookeeper://zk1:2181/reliablestore app-1"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED})
    static final class Resume extends OnNode {

        @Override
        public Integer call() {
            return run(this, "resume", admin -> admin.resume(node), status -> "resumed " + node + "; primary is " + status.primary().orElse("none"),
                    status -> result("resumed", node, status));
        }
    }
}
