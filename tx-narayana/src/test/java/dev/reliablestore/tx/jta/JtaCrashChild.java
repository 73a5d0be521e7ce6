package dev.reliablestore.tx.jta;

import com.arjuna.ats.jta.recovery.XAResourceRecoveryHelper;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.tx.testing.DelegatingXAResource;
import dev.reliablestore.tx.testing.FileParticipant;
import jakarta.transaction.TransactionManager;
import org.h2.jdbcx.JdbcDataSource;

import javax.sql.DataSource;
import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

/**
 * The child JVM of the JTA crash tests: runs a JTA transaction over a store and H2 that halts the
 * process at a chosen point, or runs Narayana's recovery. Exit code 3 = halted as planned, 0 = done.
 */
public final class JtaCrashChild {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        switch (mode) {
            case "jta-crash-in-commit", "jta-crash-in-prepare" -> jta(mode, Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            case "jta-db-first-crash-in-store-commit" -> databaseFirst(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            case "jta-recover" -> jtaRecover(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            case "jta-recover-data-source" -> jtaRecoverDataSource(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]));
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.exit(0);
    }

    static final String JTA_NODE = "crash-jta";

    private static NarayanaJta startJta(Path objectStore) {
        return NarayanaJta.builder().objectStoreDirectory(objectStore).nodeIdentifier(JTA_NODE)
                .recoveryBackoff(Duration.ofSeconds(1)).orphanSafetyInterval(Duration.ZERO).manualRecovery().start();
    }

    static JdbcDataSource h2(Path dir) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + dir.toAbsolutePath() + "/db");
        ds.setUser("sa");
        return ds;
    }

    private static void jta(String mode, Path objectStore, Path participantDir, Path h2Dir) throws Exception {
        FileParticipant participant = new FileParticipant(participantDir);
        if (mode.equals("jta-crash-in-commit")) {
            participant.haltOnCommit(true); // it was enlisted first, so it is committed first
        }
        NarayanaJta jta = startJta(objectStore);
        EntityStore<String> orders = jta.store(participant, "Order", String.class);
        XAConnection xc = h2(h2Dir).getXAConnection();
        Connection sql = xc.getConnection();
        try (Statement s = sql.createStatement()) {
            s.execute("create table if not exists ledger(id varchar(64) primary key, amount int)");
            s.execute("checkpoint sync"); // H2 writes autocommitted DDL lazily; the halt must not lose the table
        }
        TransactionManager tm = jta.transactionManager();
        tm.begin();
        orders.save("o1", "x");
        XAResource h2 = mode.equals("jta-crash-in-prepare") ? new HaltAtPrepare(xc.getXAResource()) : xc.getXAResource();
        tm.getTransaction().enlistResource(h2);
        try (Statement s = sql.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 42)");
        }
        tm.commit();
        throw new IllegalStateException("the commit should have halted the process");
    }

    /**
     * The database joins first through {@link NarayanaJta#dataSource} (as under Spring), so Narayana
     * commits it first; the process halts in the store's commit, after the database's.
     */
    private static void databaseFirst(Path objectStore, Path participantDir, Path h2Dir) throws Exception {
        FileParticipant participant = new FileParticipant(participantDir);
        participant.haltOnCommit(true);
        NarayanaJta jta = startJta(objectStore);
        EntityStore<String> orders = jta.store(participant, "Order", String.class);
        DataSource db = jta.dataSource(h2(h2Dir));
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.execute("create table if not exists ledger(id varchar(64) primary key, amount int)");
            s.execute("checkpoint sync");
        }
        TransactionManager tm = jta.transactionManager();
        tm.begin();
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 42)");
        }
        orders.save("o1", "x");
        tm.commit();
        throw new IllegalStateException("the commit should have halted the process");
    }

    /** Recovery with the database registered through {@link NarayanaJta#dataSource}, as the application does. */
    private static void jtaRecoverDataSource(Path objectStore, Path participantDir, Path h2Dir) {
        try (NarayanaJta jta = startJta(objectStore)) {
            jta.addRecoveryResource(new FileParticipant(participantDir));
            jta.dataSource(h2(h2Dir));
            jta.recoverNow();
            jta.recoverNow();
        }
    }

    private static void jtaRecover(Path objectStore, Path participantDir, Path h2Dir) throws Exception {
        TransactionalResource participant = new FileParticipant(participantDir);
        XAConnection xc = h2(h2Dir).getXAConnection();
        try (NarayanaJta jta = startJta(objectStore)) {
            jta.addRecoveryResource(participant);
            jta.addRecoveryHelper(new XAResourceRecoveryHelper() {
                @Override
                public boolean initialise(String p) {
                    return true;
                }

                @Override
                public XAResource[] getXAResources() throws Exception {
                    return new XAResource[]{xc.getXAResource()};
                }
            });
            // the first pass sees the branches, the second finishes orphans (see the reference notes)
            jta.recoverNow();
            jta.recoverNow();
        } finally {
            xc.close();
        }
    }

    /** Halts the process when asked to prepare, before the resource does anything. */
    private static final class HaltAtPrepare extends DelegatingXAResource {
        HaltAtPrepare(XAResource delegate) {
            super(delegate);
        }

        @Override
        public int prepare(Xid xid) {
            Runtime.getRuntime().halt(3);
            return XA_OK;
        }
    }
}
