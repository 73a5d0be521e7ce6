package dev.reliablestore.tx;

import dev.reliablestore.tx.testing.FileParticipant;

import java.nio.file.Path;

/**
 * The child JVM of the local coordinator's crash tests: runs a transaction that halts the process
 * at a chosen point. Exit code 3 = halted as planned, 0 = done.
 */
public final class CrashChild {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        switch (mode) {
            case "local-crash-in-commit", "local-crash-in-prepare" -> local(mode, Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.exit(0);
    }

    static final String LOCAL_NODE = "crash-node";

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
