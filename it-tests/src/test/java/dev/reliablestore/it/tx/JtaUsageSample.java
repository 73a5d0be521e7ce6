package dev.reliablestore.it.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tx.jta.NarayanaJta;
import jakarta.transaction.TransactionManager;

import java.nio.file.Path;
import java.util.Map;

/**
 * The JTA usage sample of docs/transactions.md and the README, kept compiling (and running, by
 * {@link ClusterJtaTest}). Keep the text between the markers identical to the documentation.
 */
final class JtaUsageSample {

    private JtaUsageSample() {
    }

    /** Once per process (Narayana is configured once per JVM); compiled here, run by the crash tests' own set-up. */
    static NarayanaJta startNarayana(Path txLogDir) {
        // --- setup start ---
        NarayanaJta jta = NarayanaJta.builder()
                .objectStoreDirectory(txLogDir)          // Narayana's transaction log: keep it across restarts
                .nodeIdentifier("bank-app-1")            // unique per process sharing the data
                .start();                                // also starts periodic recovery; jta.close() stops it
        // --- setup end ---
        return jta;
    }

    static void transfer(Path dataDir, NarayanaJta jta) throws Exception {
        // --- sample start ---
        try (StoreFactory bank = Persistence.openFactory("cluster-registry", Map.of(
                "clusterName", "embedded:" + dataDir,
                "resourceGroupName", "Bank-RG",
                "registryKeyPath", "Accounts"))) {
            EntityStore<Account> accounts = jta.store(bank, Account.class); // joins the current JTA transaction

            TransactionManager tm = jta.transactionManager();
            accounts.save("alice", new Account("alice", 100));
            accounts.save("bob", new Account("bob", 0));
            tm.begin();
            try {
                var alice = accounts.get("alice").orElseThrow();
                var bob = accounts.get("bob").orElseThrow();
                accounts.save("alice", alice.value().plus(-40), alice.version());
                accounts.save("bob", bob.value().plus(40), bob.version());
                // ... any other XA resource (a JDBC XADataSource, JMS) enlisted here joins the same transaction
                tm.commit();                                 // one resource: one-phase; several: two-phase
            } catch (Exception e) {
                if (tm.getTransaction() != null) {
                    tm.rollback();
                }
                throw e;
            }
        }
        // --- sample end ---
    }
}
