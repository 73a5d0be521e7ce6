package dev.reliablestore.spring.boot;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.XADataSourceWrapper;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.TransactionManager;
import org.springframework.transaction.jta.JtaTransactionManager;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.tx.jta.NarayanaJta;

/**
 * JTA over Narayana when tx-narayana and spring-tx are on the class path: a started
 * {@link NarayanaJta} (recovery runs from context start to close), a Spring
 * {@link JtaTransactionManager} over it unless the application has a transaction manager, stores of
 * every StoreFactory bean joining its transactions, and an {@link XADataSourceWrapper} so that Spring
 * Boot's XA data source auto-configuration ({@code spring.datasource.*}) gives a DataSource whose
 * connections join them too. {@code reliablestore.jta.object-store-directory} and
 * {@code reliablestore.jta.node-identifier} are required; {@code reliablestore.jta.enabled=false}
 * (or Spring Boot's own {@code spring.jta.enabled=false}) switches all of it off.
 */
@AutoConfiguration(after = ReliableStoreAutoConfiguration.class, beforeName = {
        "org.springframework.boot.autoconfigure.jdbc.XADataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration"})
@ConditionalOnClass({NarayanaJta.class, JtaTransactionManager.class})
@ConditionalOnProperty(prefix = "reliablestore.jta", name = "enabled", matchIfMissing = true)
// Boot's own switch for JTA: an application that turned JTA off must not get a transaction manager from us either
@ConditionalOnProperty(prefix = "spring.jta", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(ReliableStoreProperties.class)
public class ReliableStoreJtaAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    NarayanaJta reliableStoreNarayanaJta(ReliableStoreProperties properties) {
        ReliableStoreProperties.Jta jta = properties.getJta();
        if (jta.getObjectStoreDirectory() == null || jta.getNodeIdentifier() == null) {
            throw new ConfigurationException("JTA with Narayana needs reliablestore.jta.object-store-directory (Narayana's transaction"
                    + " log, kept across restarts) and reliablestore.jta.node-identifier (unique per process); got "
                    + jta.getObjectStoreDirectory() + " and " + jta.getNodeIdentifier()
                    + ". Set reliablestore.jta.enabled=false to run without JTA");
        }
        NarayanaJta.Builder builder = NarayanaJta.builder().objectStoreDirectory(jta.getObjectStoreDirectory())
                .nodeIdentifier(jta.getNodeIdentifier()).defaultTimeout(jta.getDefaultTimeout())
                .periodicRecovery(jta.getPeriodicRecovery());
        if (!jta.getRecoveryNodes().isEmpty()) {
            builder.recoveryNodes(jta.getRecoveryNodes());
        }
        return builder.start();
    }

    @Bean
    @ConditionalOnMissingBean(TransactionManager.class)
    JtaTransactionManager transactionManager(NarayanaJta jta) {
        return new JtaTransactionManager(jta.transactionManager());
    }

    @Bean
    static JtaStoreFactories reliableStoreJtaStoreFactories(ObjectProvider<NarayanaJta> jta) {
        return new JtaStoreFactories(jta);
    }

    @Bean
    @ConditionalOnMissingBean
    XADataSourceWrapper reliableStoreXaDataSourceWrapper(NarayanaJta jta) {
        return jta::dataSource;
    }
}
