package dev.reliablestore.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import javax.sql.DataSource;

import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration;
import org.springframework.boot.jdbc.XADataSourceWrapper;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.jta.JtaTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tx.jta.NarayanaJta;

/** The JTA auto-configuration in real contexts: real Narayana, an embedded registry and an H2 XA database in a temp directory. */
class ReliableStoreJtaAutoConfigurationTest {

    @TempDir
    Path dir;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class, ReliableStoreJtaAutoConfiguration.class,
                        TransactionAutoConfiguration.class))
                .withPropertyValues(ReliableStoreAutoConfigurationTest.properties(dir))
                .withPropertyValues(SharedNarayana.properties())
                .withPropertyValues("h2.url=jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
    }

    @Configuration(proxyBeanMethods = false)
    static class Application {
        @Bean
        EntityStore<Customer> customers(StoreFactory factory) {
            return factory.store(Customer.class);
        }

        /** What Boot's XA data source auto-configuration does with the wrapper, with H2's XADataSource. */
        @Bean
        DataSource dataSource(XADataSourceWrapper wrapper, org.springframework.core.env.Environment env) throws Exception {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL(env.getRequiredProperty("h2.url"));
            h2.setUser("sa");
            DataSource ds = wrapper.wrapDataSource(h2);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("create table orders(id varchar(64) primary key, customer varchar(64))");
            }
            return ds;
        }
    }

    private static void insertOrder(DataSource ds, String id, String customer) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("insert into orders values ('" + id + "', '" + customer + "')");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int orders(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet r = s.executeQuery("select count(*) from orders")) {
            r.next();
            return r.getInt(1);
        }
    }

    @Test
    void oneTransactionSpansTheStoresAndTheXaDatabase() {
        runner().withUserConfiguration(Application.class).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(NarayanaJta.class);
            assertThat(context.getBean(PlatformTransactionManager.class)).isInstanceOf(JtaTransactionManager.class);
            @SuppressWarnings("unchecked") // the bean's type argument is erased at run time
            EntityStore<Customer> customers = context.getBean(EntityStore.class);
            // a store taken from the factory bean, not a bean itself, joins too
            EntityStore<Customer> vip = context.getBean(StoreFactory.class).store("Vip", Customer.class);
            DataSource ds = context.getBean(DataSource.class);
            TransactionTemplate tx = context.getBean(TransactionTemplate.class);

            tx.executeWithoutResult(status -> {
                customers.save("c1", new Customer("Acme", 1));
                vip.save("c1", new Customer("Acme", 1));
                insertOrder(ds, "o1", "c1");
                status.setRollbackOnly();
            });
            assertThat(customers.get("c1")).isEmpty();
            assertThat(vip.get("c1")).isEmpty();
            assertThat(orders(ds)).isZero();

            tx.executeWithoutResult(status -> {
                customers.save("c1", new Customer("Acme", 1));
                vip.save("c1", new Customer("Acme", 1));
                insertOrder(ds, "o1", "c1");
            });
            assertThat(customers.get("c1")).isPresent();
            assertThat(vip.get("c1")).isPresent();
            assertThat(orders(ds)).isEqualTo(1);
        });
    }

    private static boolean recoveryThreadRuns() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().equals("Periodic Recovery"));
    }

    /** Repositories open their stores on first use: recovery must not wait for that to finish a crashed process's branches. */
    @Test
    void recoveryScansTheFactoryBeforeAnyStoreIsTaken() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class, ReliableStoreJtaAutoConfiguration.class,
                        TransactionAutoConfiguration.class))
                .withPropertyValues(ReliableStoreAutoConfigurationTest.properties(dir))
                .withPropertyValues(SharedNarayana.properties())
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    StoreFactory factory = context.getBean(StoreFactory.class);
                    assertThat(factory).isInstanceOf(JtaStoreFactory.class);
                    assertThat(context.getBean(NarayanaJta.class).recovers(
                            dev.reliablestore.spi.tx.TransactionalResource.from(((JtaStoreFactory) factory).delegate()))).isTrue();
                });
    }

    @Test
    void recoveryRunsWhileTheContextIsOpen() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(recoveryThreadRuns()).as("Narayana's periodic recovery thread").isTrue();
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> !recoveryThreadRuns());
    }

    @Test
    void anApplicationsTransactionManagerIsKept() {
        runner().withBean("ownTransactionManager", PlatformTransactionManager.class,
                () -> new JtaTransactionManager(com.arjuna.ats.jta.TransactionManager.transactionManager())).run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(PlatformTransactionManager.class).hasBean("ownTransactionManager");
                    assertThat(context).hasSingleBean(NarayanaJta.class);
                });
    }

    @Test
    void switchedOffOrWithoutNarayanaThereIsNoJta() {
        for (String off : new String[] {"reliablestore.jta.enabled=false", "spring.jta.enabled=false"}) {
            runner().withPropertyValues(off).run(context ->
                    assertThat(context).as(off).hasNotFailed().doesNotHaveBean(NarayanaJta.class).doesNotHaveBean(PlatformTransactionManager.class)
                            .getBean(StoreFactory.class).isNotInstanceOf(JtaStoreFactory.class));
        }
        runner().withClassLoader(new FilteredClassLoader(NarayanaJta.class)).run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(PlatformTransactionManager.class)
                        .getBean(StoreFactory.class).isNotInstanceOf(JtaStoreFactory.class));
    }

    @Test
    void withoutTheObjectStoreDirectoryTheContextFailsNamingIt() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreAutoConfiguration.class, ReliableStoreJtaAutoConfiguration.class))
                .withPropertyValues(ReliableStoreAutoConfigurationTest.properties(dir)).withPropertyValues("reliablestore.jta.node-identifier=n1")
                .run(context -> assertThat(context.getStartupFailure()).rootCause()
                        .hasMessageContaining("reliablestore.jta.object-store-directory").hasMessageContaining("reliablestore.jta.enabled=false"));
        // the factory opened before the failure is closed: its registry directory opens again in this process
        try (dev.reliablestore.api.StoreFactory again = dev.reliablestore.api.Persistence.openFactory("cluster-registry", java.util.Map.of(
                "clusterName", "embedded:" + dir.resolve("registry"), "resourceGroupName", "RG", "registryKeyPath", "Software/App"))) {
            assertThat(again.providerName()).isEqualTo("cluster-registry");
        }
    }
}
