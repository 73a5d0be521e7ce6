package dev.reliablestore.tx.jta;

import com.arjuna.ats.jta.recovery.XAResourceRecoveryHelper;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;
import org.jboss.tm.XAResourceWrapper;

import javax.sql.DataSource;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link DataSource} over an {@link XADataSource} whose connections join the calling thread's JTA
 * transaction: inside one, the first connection opens an {@link XAConnection}, enlists its
 * {@link XAResource} and every later call in the same transaction gets the same connection, whose
 * {@code close()} only ends the handle (the branch is finished by the transaction manager, and the
 * XA connection closed after completion); outside a transaction, a plain auto-commit connection
 * closed with its handle. No pooling: one physical connection per transaction.
 */
final class JtaDataSource implements DataSource {

    private static final System.Logger LOG = System.getLogger(JtaDataSource.class.getName());
    /** Before the data source's name in the JNDI name Narayana logs; stores use {@code reliablestore:}. */
    static final String JNDI_PREFIX = "reliablestore-jdbc:";

    private final XADataSource xa;
    private final TransactionManager tm;
    private final Recovery recovery;
    private final Map<Transaction, Connection> enlisted = new ConcurrentHashMap<>();

    Recovery recovery() {
        return recovery;
    }

    JtaDataSource(XADataSource xa, TransactionManager tm, Recovery recovery) {
        this.xa = xa;
        this.tm = tm;
        this.recovery = recovery;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Transaction tx = activeTransaction();
        if (tx == null) {
            XAConnection x = xa.getXAConnection();
            return handle(x.getConnection(), x);
        }
        Connection known = enlisted.get(tx);
        if (known != null) {
            return known;
        }
        XAConnection x = xa.getXAConnection();
        try {
            // the handle first: some drivers (H2) reset the physical connection when a handle is taken
            Connection c = handle(x.getConnection(), null);
            Branch branch = new Branch(x.getXAResource(), recovery.jndiName, null);
            if (!tx.enlistResource(branch)) {
                throw new SQLException("the JTA transaction " + tx + " refused to enlist the XA connection of " + xa);
            }
            tx.registerSynchronization(new Synchronization() {
                @Override
                public void beforeCompletion() {
                }

                @Override
                public void afterCompletion(int status) {
                    enlisted.remove(tx);
                    if (branch.finished) {
                        closeQuietly(x);
                    } else {
                        // phase two failed: some drivers (H2) drop a prepared branch when its connection
                        // closes, so it stays open for recovery to finish the branch, until close()
                        recovery.park(x);
                    }
                }
            });
            enlisted.put(tx, c);
            return c;
        } catch (RollbackException e) {
            closeQuietly(x);
            throw new SQLException("the JTA transaction " + tx + " is marked for rollback; the database cannot join it", e);
        } catch (SystemException | SQLException | RuntimeException e) {
            closeQuietly(x);
            throw e instanceof SQLException s ? s : new SQLException("cannot enlist the XA connection of " + xa + " in " + tx + ": " + e, e);
        }
    }

    private Transaction activeTransaction() throws SQLException {
        try {
            Transaction tx = tm.getTransaction();
            if (tx == null || tx.getStatus() == Status.STATUS_NO_TRANSACTION) {
                return null;
            }
            if (tx.getStatus() != Status.STATUS_ACTIVE) {
                throw new SQLException("the current JTA transaction " + tx + " is not active (it is "
                        + JtaEntityStore.statusName(tx.getStatus()) + "); no connection can join it");
            }
            return tx;
        } catch (SystemException e) {
            throw new SQLException("cannot ask the transaction manager for the current transaction: " + e, e);
        }
    }

    /**
     * The connection, whose {@code close()} closes {@code owner} too (outside a transaction), or only
     * marks the handle closed (inside one: the XA connection lives until the transaction completes,
     * and the same handle is handed out again within it, so closing it must not end it).
     */
    private static Connection handle(Connection c, XAConnection owner) {
        boolean[] closed = {false};
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "close":
                    if (owner != null) {
                        closed[0] = true;
                        owner.close();
                    }
                    return null;
                case "isClosed":
                    return closed[0] || c.isClosed();
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "JTA connection " + c;
                default:
                    try {
                        return method.invoke(c, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
            }
        });
    }

    private static void closeQuietly(XAConnection x) {
        try {
            x.close();
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing an XA connection failed: {0}", e.toString());
        }
    }

    /**
     * The name of a data source without one given: its driver class and a hash of its URL (the URL may
     * hold a password, and the name is written to Narayana's log), the same in every run with the same
     * configuration and different for two databases; null if the {@link XADataSource} has no public
     * {@code getURL()} or {@code getUrl()}.
     */
    static String defaultName(XADataSource xa) {
        for (String getter : List.of("getURL", "getUrl")) {
            try {
                Method m = xa.getClass().getMethod(getter);
                if (m.getReturnType() == String.class && m.invoke(xa) instanceof String url && !url.isBlank()) {
                    byte[] hash = MessageDigest.getInstance("SHA-256").digest(url.getBytes(StandardCharsets.UTF_8));
                    return xa.getClass().getName() + "#" + HexFormat.of().formatHex(hash, 0, 8);
                }
            } catch (ReflectiveOperationException | NoSuchAlgorithmException | RuntimeException e) {
                // no such getter, or it failed: try the next
            }
        }
        return null;
    }

    /**
     * The driver's XAResource of one transaction, noting whether its branch was finished (committed,
     * rolled back or read-only). Named after its data source ({@link XAResourceWrapper}), as recovery's
     * resource is: Narayana logs the name with the branch, and after a crash, when the database no longer
     * reports the branch (it committed before the crash), it finds that name among the resources it
     * scanned and removes the finished log; without a name the log stayed, warned about at every scan.
     */
    private static final class Branch implements XAResource, XAResourceWrapper {
        private final XAResource driver;
        /** {@link Recovery#jndiName}: null for a data source without a name (Narayana then keeps such a log). */
        private final String jndiName;
        /** For recovery's resource: a failed scan means the connection may be dead; null for a transaction's branch. */
        private final Runnable onRecoverFailure;
        volatile boolean finished;

        Branch(XAResource driver, String jndiName, Runnable onRecoverFailure) {
            this.driver = driver;
            this.jndiName = jndiName;
            this.onRecoverFailure = onRecoverFailure;
        }

        /** The transaction manager forgets a branch that answered so: it will never call rollback for it. */
        private static boolean endsTheBranch(XAException e) {
            return (e.errorCode >= XAException.XA_RBBASE && e.errorCode <= XAException.XA_RBEND) || e.errorCode == XAException.XAER_NOTA;
        }

        @Override
        public void start(Xid xid, int flags) throws XAException {
            driver.start(xid, flags);
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            driver.end(xid, flags);
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            int vote;
            try {
                vote = driver.prepare(xid);
            } catch (XAException e) {
                finished = endsTheBranch(e); // a "no" vote: rolled back, and no rollback call follows
                throw e;
            }
            finished = vote == XA_RDONLY;
            return vote;
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            try {
                driver.commit(xid, onePhase);
            } catch (XAException e) {
                // a one-phase commit that rolled back (or failed for good) is over; a phase-two failure is retried by recovery
                finished = onePhase && (endsTheBranch(e) || e.errorCode == XAException.XAER_RMERR);
                throw e;
            }
            finished = true;
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            driver.rollback(xid);
            finished = true;
        }

        @Override
        public void forget(Xid xid) throws XAException {
            driver.forget(xid);
            finished = true;
        }

        @Override
        public Xid[] recover(int flag) throws XAException {
            try {
                return driver.recover(flag);
            } catch (XAException e) {
                if (onRecoverFailure != null) {
                    onRecoverFailure.run();
                }
                throw e;
            }
        }

        @Override
        public boolean isSameRM(XAResource other) throws XAException {
            return driver.isSameRM(other instanceof Branch b ? b.driver : other);
        }

        @Override
        public int getTransactionTimeout() throws XAException {
            return driver.getTransactionTimeout();
        }

        @Override
        public boolean setTransactionTimeout(int seconds) throws XAException {
            return driver.setTransactionTimeout(seconds);
        }

        @Override
        public XAResource getResource() {
            return driver;
        }

        @Override
        public String getProductName() {
            return "JDBC";
        }

        @Override
        public String getProductVersion() {
            return "";
        }

        @Override
        public String getJndiName() {
            return jndiName;
        }

        @Override
        public String toString() {
            return driver.toString();
        }
    }

    /**
     * Recovery's view of the database: one XA connection kept for the scans, opened when first
     * needed and again after a scan failed on it, and the connections of branches whose phase two
     * failed, kept open until close().
     */
    static final class Recovery implements XAResourceRecoveryHelper, AutoCloseable {
        private final XADataSource xa;
        /** Narayana's JNDI name of the data source's branches, live and recovered alike; null without a name. */
        final String jndiName;
        private final List<XAConnection> parked = new CopyOnWriteArrayList<>();
        private XAConnection connection;

        void park(XAConnection x) {
            parked.add(x);
        }

        /** Connections kept open for recovery (tests). */
        int parkedConnections() {
            return parked.size();
        }

        /** {@code name}: the data source's name, stable across restarts and unique per database, or null. */
        Recovery(XADataSource xa, String name) {
            this.xa = xa;
            this.jndiName = name == null ? null : JNDI_PREFIX + name;
        }

        @Override
        public boolean initialise(String p) {
            return true;
        }

        @Override
        public synchronized XAResource[] getXAResources() {
            try {
                if (connection == null) {
                    connection = xa.getXAConnection();
                }
                XAConnection scanning = connection;
                // a scan that fails drops the connection, so the next scan opens a new one: one that died with a
                // database restart would otherwise fail every scan and leave the database's branches prepared
                return new XAResource[] {new Branch(connection.getXAResource(), jndiName, () -> discard(scanning))};
            } catch (SQLException e) {
                // the database may be down now: the next scan tries again
                LOG.log(System.Logger.Level.WARNING, "recovery cannot reach {0}: {1}", xa, e.toString());
                if (connection != null) {
                    closeQuietly(connection);
                    connection = null;
                }
                return new XAResource[0];
            }
        }

        private synchronized void discard(XAConnection failed) {
            if (connection == failed) {
                closeQuietly(failed);
                connection = null;
            }
        }

        @Override
        public synchronized void close() {
            parked.forEach(JtaDataSource::closeQuietly);
            parked.clear();
            if (connection != null) {
                closeQuietly(connection);
                connection = null;
            }
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("set the user and password on the XADataSource; a JTA data source has one set");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return xa.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        xa.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        xa.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return xa.getLoginTimeout();
    }

    @Override
    public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return xa.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        if (type.isInstance(xa)) {
            return type.cast(xa);
        }
        throw new SQLException("a JTA data source over " + xa + " is not a " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this) || type.isInstance(xa);
    }

    @Override
    public String toString() {
        return "JTA data source over " + xa;
    }
}
