package dev.reliablestore.it.tx;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.tx.jta.NarayanaJta;
import jakarta.transaction.TransactionManager;

import javax.transaction.xa.Xid;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child JVM of {@link ClusterCrashRecoveryTest}: a Narayana transaction over two stores on two
 * embedded registries that halts the process at a chosen point, or Narayana recovery.
 * Exit code 3 = halted as planned, 0 = done.
 */
public final class ClusterCrashChild {

    static final String NODE = "it-crash";

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path objectStore = Path.of(args[1]);
        try (StoreFactory a = TxFixtures.registry(Path.of(args[2])); StoreFactory b = TxFixtures.registry(Path.of(args[3]))) {
            TransactionalResource ra = TxFixtures.resource(a);
            TransactionalResource rb = TxFixtures.resource(b);
            NarayanaJta jta = NarayanaJta.builder().objectStoreDirectory(objectStore).nodeIdentifier(NODE)
                    .recoveryBackoff(Duration.ofSeconds(1)).orphanSafetyInterval(Duration.ZERO).manualRecovery()
                    .recoveryResource(ra).recoveryResource(rb).start();
            try {
                if (mode.equals("recover")) {
                    // the first pass sees the branches, the second finishes the orphans
                    jta.recoverNow();
                    jta.recoverNow();
                } else {
                    crash(jta, ra, rb, mode.equals("crash-in-commit"));
                }
            } finally {
                jta.close();
            }
        }
        System.exit(0);
    }

    private static void crash(NarayanaJta jta, TransactionalResource ra, TransactionalResource rb, boolean inCommit) throws Exception {
        TransactionManager tm = jta.transactionManager();
        tm.begin();
        // A is enlisted first, so it is prepared and committed first
        HaltingXaResource xa = new HaltingXaResource(jta.xaResources(ra).adapter(),
                inCommit ? HaltingXaResource.HaltAt.COMMIT : HaltingXaResource.HaltAt.NEVER);
        HaltingXaResource xb = new HaltingXaResource(jta.xaResources(rb).adapter(),
                inCommit ? HaltingXaResource.HaltAt.NEVER : HaltingXaResource.HaltAt.PREPARE);
        tm.getTransaction().enlistResource(xa);
        tm.getTransaction().enlistResource(xb);
        branch(ra, xa.started).store(Account.class).save("alice", new Account("alice", 70), 1);
        branch(rb, xb.started).store(Account.class).save("bob", new Account("bob", 130), 1);
        tm.commit();
        throw new IllegalStateException("the commit should have halted the process");
    }

    private static TransactionBranch branch(TransactionalResource r, Xid xid) {
        return r.branch(TransactionId.of(xid.getFormatId(), xid.getGlobalTransactionId(), xid.getBranchQualifier())).orElseThrow();
    }
}
