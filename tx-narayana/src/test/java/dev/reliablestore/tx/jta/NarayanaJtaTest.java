package dev.reliablestore.tx.jta;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.tx.testing.DelegatingXAResource;
import dev.reliablestore.tx.testing.FileParticipant;
import jakarta.transaction.RollbackException;
import jakarta.transaction.TransactionManager;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Narayana's real transaction manager over a durable test participant and H2's XA data source. */
class NarayanaJtaTest {

    @TempDir
    static Path objectStore;

    static NarayanaJta jta;
    static Set<Thread> threadsBefore;

    @TempDir
    Path dir;

    FileParticipant shop;
    FileParticipant bank;
    EntityStore<String> orders;
    EntityStore<String> accounts;
    XAConnection h2;
    /** H2 hands out one logical connection per XAConnection; a new one rolls back and resets the previous. */
    java.sql.Connection sql;
    TransactionManager tm;

    @BeforeAll
    static void startNarayana() {
        threadsBefore = Set.copyOf(Thread.getAllStackTraces().keySet());
        jta = NarayanaJta.builder()
                .objectStoreDirectory(objectStore)
                .nodeIdentifier("jta-test")
                .recoveryBackoff(Duration.ofSeconds(1))
                .orphanSafetyInterval(Duration.ZERO)
                .manualRecovery()
                .start();
    }

    @AfterAll
    static void stopNarayanaAndLeaveNoThreads() {
        jta.close();
        jta.close(); // idempotent
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(newThreads()).isEmpty());
    }

    private static Set<String> newThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !threadsBefore.contains(t))
                .filter(t -> !t.getName().startsWith("ForkJoinPool") && !t.getName().startsWith("awaitility"))
                .map(Thread::getName).collect(Collectors.toSet());
    }

    @BeforeEach
    void setUp() throws SQLException {
        shop = new FileParticipant(dir.resolve("shop"));
        bank = new FileParticipant(dir.resolve("bank"));
        orders = jta.store(shop, "Order", String.class);
        accounts = jta.store(bank, "Account", String.class);
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        ds.setUser("sa");
        h2 = ds.getXAConnection();
        sql = h2.getConnection();
        try (Statement s = sql.createStatement()) {
            s.execute("create table if not exists ledger(id varchar(64) primary key, amount int)");
        }
        tm = jta.transactionManager();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (tm.getTransaction() != null) {
            tm.rollback();
        }
        h2.close();
    }

    private void insertLedger(String id, int amount) throws Exception {
        tm.getTransaction().enlistResource(h2.getXAResource());
        try (Statement s = sql.createStatement()) {
            s.executeUpdate("insert into ledger values ('" + id + "', " + amount + ")");
        }
    }

    /** A transaction that saves order o1 in the store, then inserts a ledger row through H2 whose prepare votes no. */
    private void beginOrderThenALedgerRowWhosePrepareVotesNo() throws Exception {
        tm.begin();
        orders.save("o1", "2 apples");
        tm.getTransaction().enlistResource(new DelegatingXAResource.VoteNoAtPrepare(h2.getXAResource()));
        try (Statement s = sql.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 1)");
        }
    }

    private int ledgerRows() throws SQLException {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery("select count(*) from ledger")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private EntityStore<String> committedOrders() {
        return shop.store("Order", String.class);
    }

    @Test
    void aJtaDataSourceJoinsTheTransactionOfTheStores() throws Exception {
        JdbcDataSource xa = new JdbcDataSource();
        xa.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        xa.setUser("sa");
        javax.sql.DataSource ds = jta.dataSource(xa);

        tm.begin();
        orders.save("o1", "2 apples");
        java.sql.Connection first = ds.getConnection();
        try (Statement s = first.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 42)");
        }
        first.close(); // ends the handle only: the branch goes on
        java.sql.Connection again = ds.getConnection();
        assertThat(again).as("one connection per transaction").isSameAs(first);
        try (Statement s = again.createStatement(); ResultSet rs = s.executeQuery("select count(*) from ledger")) {
            rs.next();
            assertThat(rs.getInt(1)).as("its own insert").isEqualTo(1);
        }
        tm.rollback();
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ledgerRows()).isZero();

        tm.begin();
        orders.save("o1", "2 apples");
        try (java.sql.Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 42)");
        }
        tm.commit();
        assertThat(committedOrders().exists("o1")).isTrue();
        assertThat(ledgerRows()).isEqualTo(1);

        // outside a transaction: a plain auto-commit connection of its own
        try (java.sql.Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into ledger values ('o2', 1)");
        }
        assertThat(ledgerRows()).isEqualTo(2);
        jta.recoverNow(); // the data source's recovery helper takes part in the scan
    }

    /** H2's XA data source whose branches fail phase two while {@code failCommits} is set (the database unreachable then). */
    static final class FlakyXaDataSource implements javax.sql.XADataSource {
        final JdbcDataSource h2 = new JdbcDataSource();
        volatile boolean failCommits;

        @Override
        public XAConnection getXAConnection(String user, String password) throws SQLException {
            throw new SQLException("not used");
        }

        @Override
        public java.io.PrintWriter getLogWriter() {
            return h2.getLogWriter();
        }

        @Override
        public void setLogWriter(java.io.PrintWriter out) {
            h2.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) {
            h2.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() {
            return h2.getLoginTimeout();
        }

        @Override
        public java.util.logging.Logger getParentLogger() {
            return h2.getParentLogger();
        }

        @Override
        public XAConnection getXAConnection() throws SQLException {
            XAConnection real = h2.getXAConnection();
            return (XAConnection) java.lang.reflect.Proxy.newProxyInstance(XAConnection.class.getClassLoader(),
                    new Class<?>[] {XAConnection.class}, (proxy, method, args) -> {
                        if (method.getName().equals("getXAResource")) {
                            return new DelegatingXAResource(real.getXAResource()) {
                                @Override
                                public void commit(Xid xid, boolean onePhase) throws XAException {
                                    if (failCommits) {
                                        throw new XAException(XAException.XAER_RMFAIL);
                                    }
                                    super.commit(xid, onePhase);
                                }
                            };
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }
    }

    @Test
    void recoveryFinishesTheDatabaseBranchOfAJtaDataSource() throws Exception {
        FlakyXaDataSource xa = new FlakyXaDataSource();
        xa.h2.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        xa.h2.setUser("sa");
        javax.sql.DataSource ds = jta.dataSource(xa);

        tm.begin();
        orders.save("o1", "x");
        try (java.sql.Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 1)");
        }
        xa.failCommits = true;  // phase two cannot reach the database: its branch stays prepared
        tm.commit();            // XAER_RMFAIL: Narayana keeps the log
        xa.failCommits = false;
        assertThat(committedOrders().exists("o1")).isTrue();
        assertThat(rowsSeenByANewConnection(xa.h2)).isZero();

        jta.recoverNow();       // through the data source's recovery helper
        assertThat(rowsSeenByANewConnection(xa.h2)).isEqualTo(1);
    }

    /** A new connection: H2's long-lived test connection does not see a branch another session committed by recovery. */
    private static int rowsSeenByANewConnection(JdbcDataSource h2) throws SQLException {
        try (java.sql.Connection c = h2.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from ledger")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aStoreInATransactionMarkedForRollbackNamesTheStatus() throws Exception {
        tm.begin();
        tm.setRollbackOnly();
        assertThatThrownBy(() -> orders.get("o1")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not active (it is STATUS_MARKED_ROLLBACK)");
        tm.rollback();
    }

    @Test
    void commitsAStoreAndH2Together() throws Exception {
        tm.begin();
        orders.save("o1", "2 apples");
        assertThat(orders.get("o1")).as("read-your-writes in the JTA transaction").map(Versioned::value).contains("2 apples");
        insertLedger("o1", 42);
        assertThat(committedOrders().exists("o1")).isFalse();
        tm.commit();
        assertThat(committedOrders().get("o1")).map(Versioned::value).contains("2 apples");
        assertThat(ledgerRows()).isEqualTo(1);
        assertThat(shop.prepareCount()).as("two resources: two-phase").isEqualTo(1);
        assertThat(shop.preparedRecordFiles()).isEmpty();
    }

    @Test
    void rollsBackAStoreAndH2Together() throws Exception {
        tm.begin();
        orders.save("o1", "2 apples");
        insertLedger("o1", 42);
        tm.rollback();
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ledgerRows()).isZero();
        assertThat(orders.exists("o1")).as("outside a transaction the store reads committed data").isFalse();
    }

    @Test
    void aFailureInTheSecondResourcesPrepareRollsBackTheFirst() throws Exception {
        // first: H2, second: the store, whose prepare fails
        tm.begin();
        insertLedger("o1", 42);
        orders.save("o1", "2 apples");
        shop.failNextPrepare(new StoreUnavailableException("disk full"));
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        assertThat(ledgerRows()).isZero();
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(shop.preparedRecordFiles()).isEmpty();
    }

    @Test
    void aFailureInH2sPrepareRollsBackTheAlreadyPreparedStore() throws Exception {
        // first: the store (prepared durably), second: H2, whose prepare votes no
        beginOrderThenALedgerRowWhosePrepareVotesNo();
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        assertThat(shop.prepareCount()).as("the store had prepared").isEqualTo(1);
        assertThat(shop.preparedRecordFiles()).as("and was rolled back").isEmpty();
        assertThat(shop.isLocked("Order", "o1")).isFalse();
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ledgerRows()).isZero();
    }

    @Test
    void aVersionConflictRollsBackEverything() throws Exception {
        committedOrders().save("o1", "v1");
        tm.begin();
        insertLedger("o1", 42);
        Versioned<String> seen = orders.get("o1").orElseThrow();
        orders.save("o1", "v2", seen.version());
        committedOrders().save("o1", "concurrent");
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        assertThat(committedOrders().get("o1")).map(Versioned::value).contains("concurrent");
        assertThat(ledgerRows()).isZero();
    }

    @Test
    void twoStoresOfDifferentResourcesInOneTransaction() throws Exception {
        tm.begin();
        orders.save("o1", "paid");
        accounts.save("acc", "90");
        tm.commit();
        assertThat(committedOrders().exists("o1")).isTrue();
        assertThat(bank.store("Account", String.class).get("acc")).map(Versioned::value).contains("90");
        assertThat(shop.prepareCount() + bank.prepareCount()).isEqualTo(2);
    }

    @Test
    void aSingleResourceCommitsInOnePhaseAndAReadOnlyOneIsLeftOut() throws Exception {
        tm.begin();
        orders.save("o1", "x");
        tm.commit();
        assertThat(shop.onePhaseCommitCount()).isEqualTo(1);
        assertThat(shop.prepareCount()).isZero();

        tm.begin();
        assertThat(orders.get("o1")).isPresent();      // the store only reads: votes read-only
        insertLedger("o1", 1);
        tm.commit();
        assertThat(shop.prepareCount()).isZero();
        assertThat(ledgerRows()).isEqualTo(1);
    }

    @Test
    void recoveryFinishesABranchWhoseCommitFailedAndTheLogRemains() throws Exception {
        tm.begin();
        orders.save("o1", "x");
        insertLedger("o1", 1);
        shop.onCommit(() -> shop.unavailable(true));   // phase two cannot reach the store
        tm.commit();                                   // XAER_RMFAIL: Narayana keeps the log
        shop.onCommit(() -> { });
        shop.unavailable(false);
        assertThat(shop.preparedRecordFiles()).hasSize(1);
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ledgerRows()).isEqualTo(1);

        jta.recoverNow();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(committedOrders().get("o1")).map(Versioned::value).contains("x");
    }

    @Test
    void aPreparedBranchWhoseRollbackFailedIsRolledBackByRecoveryAsAnOrphan() throws Exception {
        // first: the store (prepared durably), second: H2, whose prepare votes no; the store's rollback then fails
        beginOrderThenALedgerRowWhosePrepareVotesNo();
        shop.onRollback(() -> {
            throw new PersistenceException("disk full (injected)");
        });
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        shop.onRollback(() -> { });
        // XAER_RMFAIL, not a heuristic: the branch stays prepared and locked, and Narayana forgets the transaction
        assertThat(shop.preparedRecordFiles()).hasSize(1);
        assertThat(shop.isLocked("Order", "o1")).isTrue();

        // a prepared branch of this node with no log is an orphan: recovery rolls it back
        jta.recoverNow();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(shop.isLocked("Order", "o1")).isFalse();
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ledgerRows()).isZero();
    }

    @Test
    void anAdapterEnlistedByHandJoinsTheBranchOfTheStores() throws Exception {
        XaResources shopXa = jta.xaResources(shop);
        assertThat(jta.xaResources(shop)).as("one per resource").isSameAs(shopXa);
        assertThat(jta.xaResources(bank)).isNotSameAs(shopXa);
        tm.begin();
        orders.save("o1", "x");
        assertThat(tm.getTransaction().enlistResource(shopXa.adapter())).isTrue();
        tm.commit();
        assertThat(committedOrders().exists("o1")).isTrue();
        assertThat(shop.onePhaseCommitCount()).as("one branch").isEqualTo(1);
        assertThat(shop.prepareCount()).isZero();
    }

    /**
     * A database whose prepare votes no is rolled back by that vote, and the transaction manager never
     * calls rollback on it: its connection is closed with the transaction, not kept for recovery.
     */
    @Test
    void aDatabaseThatVotesNoDoesNotKeepItsConnection() throws Exception {
        JdbcDataSource h2xa = new JdbcDataSource();
        h2xa.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        h2xa.setUser("sa");
        javax.sql.XADataSource votingNo = (javax.sql.XADataSource) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {javax.sql.XADataSource.class}, (p, m, args) -> {
                    Object r = m.invoke(h2xa, args);
                    if (!(r instanceof javax.sql.XAConnection x)) {
                        return r;
                    }
                    return java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {javax.sql.XAConnection.class},
                            (p2, m2, args2) -> m2.getName().equals("getXAResource")
                                    ? new DelegatingXAResource.VoteNoAtPrepare(x.getXAResource()) : m2.invoke(x, args2));
                });
        JtaDataSource ds = (JtaDataSource) jta.dataSource(votingNo);
        tm.begin();
        orders.save("o1", "2 apples");
        try (java.sql.Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into ledger values ('o1', 1)");
        }
        assertThatThrownBy(tm::commit).isInstanceOf(jakarta.transaction.RollbackException.class);
        assertThat(committedOrders().exists("o1")).isFalse();
        assertThat(ds.recovery().parkedConnections()).as("connections kept for recovery").isZero();
    }

    /**
     * A factory opened per unit of work and closed: recovery finds it closed once, then leaves it
     * (kept, it failed every scan with a warning and was never released).
     */
    @Test
    void aClosedResourceIsDroppedFromRecovery() {
        dev.reliablestore.spi.tx.TransactionalResource closed = new dev.reliablestore.spi.tx.TransactionalResource() {
            @Override
            public String resourceManagerId() {
                return "closed-factory";
            }

            @Override
            public dev.reliablestore.spi.tx.TransactionBranch begin(dev.reliablestore.spi.tx.TransactionId id) {
                throw new dev.reliablestore.api.StoreClosedException("factory closed-factory");
            }

            @Override
            public java.util.Optional<dev.reliablestore.spi.tx.TransactionBranch> branch(dev.reliablestore.spi.tx.TransactionId id) {
                return java.util.Optional.empty();
            }

            @Override
            public java.util.List<dev.reliablestore.spi.tx.TransactionId> recover() {
                throw new dev.reliablestore.api.StoreClosedException("factory closed-factory");
            }

            @Override
            public void commitPrepared(dev.reliablestore.spi.tx.TransactionId id) {
                throw new dev.reliablestore.api.StoreClosedException("factory closed-factory");
            }

            @Override
            public void rollbackPrepared(dev.reliablestore.spi.tx.TransactionId id) {
                throw new dev.reliablestore.api.StoreClosedException("factory closed-factory");
            }
        };
        jta.xaResources(closed);
        int registered = jta.registeredResources();
        jta.recoverNow();
        jta.recoverNow();
        assertThat(jta.registeredResources()).isEqualTo(registered - 1);
    }

    /**
     * A factory opened for one unit of work and closed while it still owed a commit: recovery drops it
     * all the same (kept, it failed every scan for the life of the process), and the commit is finished
     * through the factory opened next over the same data.
     */
    @Test
    void aClosedResourceThatOwesACommitIsDroppedAndTheNextOneOverItsDataFinishesIt() throws Exception {
        FileParticipant unit = new FileParticipant(dir.resolve("unit"));
        EntityStore<String> unitOrders = jta.store(unit, "Order", String.class);
        tm.begin();
        unitOrders.save("o1", "x");
        insertLedger("o1", 1);
        unit.onCommit(unit::close);                    // phase two finds the factory closed
        tm.commit();                                   // XAER_RMFAIL: Narayana keeps the log
        assertThat(unit.preparedRecordFiles()).hasSize(1);
        int registered = jta.registeredResources();

        jta.recoverNow();                              // finds it closed
        jta.recoverNow();
        assertThat(jta.registeredResources()).as("resources scanned").isEqualTo(registered - 1);

        FileParticipant reopened = new FileParticipant(dir.resolve("unit"));
        jta.addRecoveryResource(reopened);
        jta.recoverNow();
        assertThat(reopened.preparedRecordFiles()).isEmpty();
        assertThat(reopened.store("Order", String.class).get("o1")).map(Versioned::value).contains("x");
        assertThat(ledgerRows()).isEqualTo(1);
    }

    /** The other order: the adapter enlisted by hand first, then a store of the same resource used in the transaction. */
    @Test
    void aStoreUsedAfterAnAdapterWasEnlistedByHandWritesInItsBranch() throws Exception {
        tm.begin();
        assertThat(tm.getTransaction().enlistResource(jta.xaResources(shop).adapter())).isTrue();
        orders.save("o2", "y");
        orders.save("o3", "z");
        tm.commit();
        assertThat(committedOrders().exists("o2")).isTrue();
        assertThat(committedOrders().exists("o3")).isTrue();
        assertThat(shop.onePhaseCommitCount()).as("one branch").isEqualTo(1);
    }

    @Test
    void narayanaIsConfiguredOncePerJvm() {
        assertThatThrownBy(() -> NarayanaJta.builder().objectStoreDirectory(objectStore).nodeIdentifier("other").start())
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("already running");
        assertThatThrownBy(() -> NarayanaJta.builder().nodeIdentifier("has space")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1..28");
        assertThatThrownBy(() -> NarayanaJta.builder().nodeIdentifier("n").start()).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("objectStoreDirectory");
        assertThatThrownBy(() -> NarayanaJta.builder().recoveryBackoff(Duration.ofMillis(500)))
                .hasMessageContaining("whole seconds");
    }
}
