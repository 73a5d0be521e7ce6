package dev.reliablestore.it.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.tx.jta.NarayanaJta;
import dev.reliablestore.tx.testing.DelegatingXAResource;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Narayana JTA transactions spanning ReliableStore stores on different registries, and H2's XA data source. */
class ClusterJtaTest {

    @TempDir
    static Path objectStore;

    static NarayanaJta jta;

    @TempDir
    Path dir;

    StoreFactory shop;
    StoreFactory bank;
    EntityStore<Order> orders;
    EntityStore<Account> accounts;
    XAConnection h2;
    Connection sql;
    TransactionManager tm;

    @BeforeAll
    static void start() {
        jta = NarayanaJta.builder().objectStoreDirectory(objectStore).nodeIdentifier("it-jta")
                .recoveryBackoff(Duration.ofSeconds(1)).manualRecovery().start();
    }

    @AfterAll
    static void stop() {
        jta.close();
    }

    @BeforeEach
    void open() throws Exception {
        shop = TxFixtures.registry(dir.resolve("shop"));
        bank = TxFixtures.registry(dir.resolve("bank"));
        orders = jta.store(shop, Order.class);
        accounts = jta.store(bank, Account.class);
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        ds.setUser("sa");
        h2 = ds.getXAConnection();
        sql = h2.getConnection(); // one logical connection per XAConnection (a new one resets the old)
        try (Statement s = sql.createStatement()) {
            s.execute("create table ledger(id varchar(64) primary key, amount int)");
        }
        tm = jta.transactionManager();
        bank.store(Account.class).save("alice", new Account("alice", 100));
    }

    @AfterEach
    void close() throws Exception {
        if (tm.getTransaction() != null) {
            tm.rollback();
        }
        h2.close();
        shop.close();
        bank.close();
    }

    private void ledger(String id, int amount) throws Exception {
        tm.getTransaction().enlistResource(h2.getXAResource());
        try (Statement s = sql.createStatement()) {
            s.executeUpdate("insert into ledger values ('" + id + "', " + amount + ")");
        }
    }

    private int ledgerRows() throws Exception {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery("select count(*) from ledger")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private void debitAlice(long amount) {
        Versioned<Account> a = accounts.get("alice").orElseThrow();
        accounts.save("alice", a.value().plus(-amount), a.version());
    }

    private long aliceBalance() {
        return bank.store(Account.class).get("alice").orElseThrow().value().balance();
    }

    @Test
    void twoStoresOnDifferentRegistriesCommitTogether() throws Exception {
        tm.begin();
        debitAlice(30);
        orders.save("o1", new Order("alice", "book", 1));
        assertThat(orders.get("o1")).isPresent();
        assertThat(shop.store(Order.class).exists("o1")).isFalse();
        tm.commit();
        assertThat(aliceBalance()).isEqualTo(70);
        assertThat(shop.store(Order.class).exists("o1")).isTrue();
        assertThat(TxFixtures.resource(shop).recover()).isEmpty();
        assertThat(TxFixtures.resource(bank).recover()).isEmpty();
    }

    @Test
    void twoStoresRollBackTogether() throws Exception {
        tm.begin();
        debitAlice(30);
        orders.save("o1", new Order("alice", "book", 1));
        tm.rollback();
        assertThat(aliceBalance()).isEqualTo(100);
        assertThat(shop.store(Order.class).exists("o1")).isFalse();
    }

    @Test
    void aFailureInTheSecondStoresPrepareRollsBackTheFirst() throws Exception {
        shop.store(Order.class).save("o1", new Order("alice", "book", 1));
        tm.begin();
        debitAlice(30);                                            // first: the bank
        Versioned<Order> o = orders.get("o1").orElseThrow();       // second: the shop
        orders.save("o1", new Order("alice", "book", 2), o.version());
        shop.store(Order.class).save("o1", new Order("carol", "pen", 9)); // makes the shop vote no
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        assertThat(aliceBalance()).isEqualTo(100);
        assertThat(TxFixtures.resource(bank).recover()).as("the bank's prepared record was rolled back").isEmpty();
        bank.store(Account.class).save("alice", new Account("alice", 1), 1); // and its lock released
        assertThat(shop.store(Order.class).get("o1")).map(v -> v.value().customer()).contains("carol");
    }

    @Test
    void aStoreAndH2CommitAndRollBackTogether() throws Exception {
        tm.begin();
        debitAlice(10);
        ledger("t1", -10);
        tm.commit();
        assertThat(aliceBalance()).isEqualTo(90);
        assertThat(ledgerRows()).isEqualTo(1);

        tm.begin();
        debitAlice(10);
        ledger("t2", -10);
        tm.rollback();
        assertThat(aliceBalance()).isEqualTo(90);
        assertThat(ledgerRows()).isEqualTo(1);
    }

    @Test
    void aFailureInH2sPrepareRollsBackTheStore() throws Exception {
        tm.begin();
        debitAlice(10); // the store is first and prepares durably
        tm.getTransaction().enlistResource(new DelegatingXAResource.VoteNoAtPrepare(h2.getXAResource()));
        try (Statement s = sql.createStatement()) {
            s.executeUpdate("insert into ledger values ('t1', -10)");
        }
        assertThatThrownBy(tm::commit).isInstanceOf(RollbackException.class);
        assertThat(aliceBalance()).isEqualTo(100);
        assertThat(ledgerRows()).isZero();
        assertThat(TxFixtures.resource(bank).recover()).isEmpty();
        bank.store(Account.class).save("alice", new Account("alice", 1), 1);
    }

    @Test
    void theDocumentedSampleRunsAndMatchesTheDocs() throws Exception {
        JtaUsageSample.transfer(dir.resolve("sample"), jta);
        try (StoreFactory f = dev.reliablestore.api.Persistence.openFactory("cluster-registry", java.util.Map.of(
                "clusterName", "embedded:" + dir.resolve("sample"), "resourceGroupName", "Bank-RG", "registryKeyPath", "Accounts"))) {
            assertThat(f.store(Account.class).get("bob")).map(v -> v.value().balance()).contains(40L);
        }
        String source = Files.readString(sourceOf("JtaUsageSample.java"));
        String setup = sample(source, "setup");
        String code = sample(source, "sample");
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        for (String doc : new String[] {"docs/transactions.md", "README.md"}) {
            assertThat(Files.readString(root.resolve(doc))).as(doc + " shows the compiled sample").contains(setup).contains(code);
        }
    }

    private static Path sourceOf(String file) {
        return Path.of(System.getProperty("user.dir"), "src/test/java/dev/reliablestore/it/tx", file);
    }

    /** The sample's lines, de-indented to the level of its first line. */
    static String sample(String source, String name) {
        Matcher m = Pattern.compile("// --- " + name + " start ---\\n(.*?)\\n\\s*// --- " + name + " end ---", Pattern.DOTALL).matcher(source);
        if (!m.find()) {
            throw new AssertionError("no sample markers");
        }
        String[] lines = m.group(1).split("\n");
        int indent = lines[0].length() - lines[0].stripLeading().length();
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            out.append(line.length() >= indent ? line.substring(indent) : line.strip()).append('\n');
        }
        return out.toString().stripTrailing();
    }
}
