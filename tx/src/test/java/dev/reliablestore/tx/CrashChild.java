package dev.reliablestore.tx;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.tx.testing.ChildJvms;
import dev.reliablestore.tx.testing.FileParticipant;

import java.nio.file.Path;

/**
 * The child JVM of the local coordinator's crash tests: runs a transaction that halts the process
 * at a chosen point. Exit code 3 = halted as planned (or, for {@code open-node}, refused), 0 = done.
 */
public final class CrashChild {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        switch (mode) {
            case "local-crash-in-commit", "local-crash-in-prepare" -> local(mode, Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            case "open-node" -> openNode(Path.of(args[1]), args[2]);
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.exit(0);
    }

    static final String LOCAL_NODE = "crash-node";
    /** The exit code of {@code open-node} when the factory was refused because the node's log is locked. */
    static final int REFUSED = ChildJvms.HALTED;

    /** Opens a factory of {@code node} on {@code log}: exit 0 if it opened, {@link #REFUSED} if another process holds the node. */
    private static void openNode(Path log, String node) {
        try (TransactionFactory factory = TransactionFactory.builder().nodeName(node).logDirectory(log).build()) {
            System.out.println("opened " + factory);
        } catch (ConfigurationException e) {
            System.out.println(e.getMessage());
            System.exit(e.getMessage().contains("in another process") ? REFUSED : 1);
        }
    }

    private static void local(String mode, Path log, Path a, Path b) {
        FileParticipant first = new FileParticipant(a);
        FileParticipant second = new FileParticipant(b);
        if (mode.equals("local-crash-in-commit")) {
            first.haltOnCommit(true);  // phase two starts with the first writer: both are prepared, the decision logged
        } else {
            second.haltOnPrepare(true); // the first writer is prepared, no decision exists
        }
        TransactionFactory factory = TransactionFactory.builder().nodeName(LOCAL_NODE).logDirectory(log).build();
        Transaction tx = factory.begin();
        tx.enlist(first).store("Order", String.class).save("o1", "x");
        tx.enlist(second).store("Account", String.class).save("a1", "y");
        tx.commit();
        throw new IllegalStateException("the commit should have halted the process");
    }
}
