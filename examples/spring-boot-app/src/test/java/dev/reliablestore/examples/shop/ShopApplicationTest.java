package dev.reliablestore.examples.shop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import javax.sql.DataSource;
import javax.sql.XADataSource;

import org.h2.jdbcx.JdbcDataSource;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.jta.JtaTransactionManager;

import dev.reliablestore.api.StoreFactory;

/** The shop as it starts: embedded registry and H2 in a temp directory, Narayana JTA, auto-configured repositories. */
@SpringBootTest
@DirtiesContext // closes the context (and Narayana) after the class: one NarayanaJta may run per JVM
class ShopApplicationTest {

    static final Path DIR = TestDirs.create("shop-app-test");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDirs.register(registry, DIR);
    }

    @Autowired
    Customers customers;
    @Autowired
    Orders orders;
    @Autowired
    OrderService service;
    @Autowired
    StoreFactory stores;
    @Autowired
    PlatformTransactionManager transactionManager;
    @Autowired
    DataSource dataSource;

    @Test
    void theRunnerCreatedTheDemoCustomerAndRepositoriesDoCrud() {
        assertThat(customers.findById(ShopRunner.DEMO_CUSTOMER)).isPresent();
        Customer bolt = customers.save(new Customer("BOLT", "Bolt Ltd", 5_000));
        assertThat(bolt.getVersion()).isEqualTo(1L);
        bolt.setName("Bolt Limited");
        customers.save(bolt);
        assertThat(customers.findById("BOLT")).hasValueSatisfying(c -> {
            assertThat(c.getName()).isEqualTo("Bolt Limited");
            assertThat(c.getVersion()).isEqualTo(2L);
        });
        // the plain API sees the same data: the entity type is the class's simple name
        assertThat(stores.store(Customer.class).get("BOLT")).isPresent();
        customers.deleteById("BOLT");
        assertThat(customers.existsById("BOLT")).isFalse();
    }

    @Test
    void aStaleVersionIsRejected() {
        customers.save(new Customer("CASE", "Case Inc", 1_000));
        Customer mine = customers.findById("CASE").orElseThrow();
        Customer theirs = customers.findById("CASE").orElseThrow();
        theirs.setCreditLimit(2_000);
        customers.save(theirs);
        mine.setCreditLimit(50_000);
        assertThatThrownBy(() -> customers.save(mine)).isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(customers.findById("CASE").orElseThrow().getCreditLimit()).isEqualTo(2_000);
    }

    /**
     * A save inside a transaction is buffered and raises the object's version at once. The
     * transaction rolled back and the object kept the raised version: saved again, it expected the
     * version another writer had written meanwhile and overwrote that writer's change. The rollback
     * now puts the version back, so the stale object fails as it should.
     */
    @Test
    void aRolledBackTransactionPutsBackTheVersionsItsSavesRaised() {
        customers.save(new Customer("ECHO", "Echo Ltd", 1_000));
        Customer mine = customers.findById("ECHO").orElseThrow();
        Long read = mine.getVersion();
        Customer created = new Customer("FOXTROT", "Foxtrot AG", 10);
        org.springframework.transaction.support.TransactionTemplate tx = new org.springframework.transaction.support.TransactionTemplate(transactionManager);
        tx.executeWithoutResult(status -> {
            mine.setCreditLimit(5_000);
            customers.save(mine);
            customers.save(mine); // twice: the version is put back to the one before both
            customers.save(created);
            assertThat(mine.getVersion()).isEqualTo(read + 1);
            status.setRollbackOnly();
        });
        assertThat(mine.getVersion()).as("as before the transaction").isEqualTo(read);
        assertThat(created.getVersion()).as("new again").isNull();
        Customer theirs = customers.findById("ECHO").orElseThrow();
        theirs.setCreditLimit(2_000);
        customers.save(theirs);
        assertThatThrownBy(() -> customers.save(mine)).isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(customers.findById("ECHO").orElseThrow().getCreditLimit()).isEqualTo(2_000);
        assertThat(customers.findById("FOXTROT")).isEmpty();
        customers.save(created);
        assertThat(created.getVersion()).isEqualTo(1L);
    }

    @Test
    void aTransactionCommitsTheOrderAndTheInvoiceOrRollsBackBoth() throws Exception {
        assertThat(transactionManager).isInstanceOf(JtaTransactionManager.class);
        // Boot's XA data source auto-configuration built it over H2's XADataSource, through the starter's wrapper
        assertThat(dataSource.unwrap(XADataSource.class)).isInstanceOf(JdbcDataSource.class);
        customers.save(new Customer("DELTA", "Delta plc", 1_000));

        Order first = service.place("O-1", "DELTA", 600);
        assertThat(first.getVersion()).isEqualTo(1L);
        assertThat(orders.findById("O-1")).isPresent();
        assertThat(service.invoiced("DELTA")).isEqualTo(600);

        // 600 + 500 > 1000: both writes happened inside the method, the exception undoes both
        assertThatThrownBy(() -> service.place("O-2", "DELTA", 500)).isInstanceOf(CreditLimitExceededException.class);
        assertThat(orders.findById("O-2")).isEmpty();
        assertThat(service.invoiced("DELTA")).isEqualTo(600);
        assertThat(orders.findByCustomerId("DELTA")).extracting(Order::getId).containsExactly("O-1");
    }
}
