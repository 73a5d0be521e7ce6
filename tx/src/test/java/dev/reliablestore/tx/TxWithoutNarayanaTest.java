package dev.reliablestore.tx;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Local transactions take no JTA implementation with them: none of Narayana, the JTA API or the
 * JTA integration is on tx's class path (its test class path includes every compile and runtime
 * dependency). The enforcer's bannedDependencies rule in tx/pom.xml refuses the same at build time.
 */
class TxWithoutNarayanaTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "com.arjuna.ats.jta.TransactionManager",   // narayana-jta
            "org.jboss.tm.XAResourceWrapper",          // jboss-transaction-spi
            "org.jboss.logging.Logger",                // jboss-logging, Narayana's logger
            "jakarta.transaction.TransactionManager",  // the JTA API
            "dev.reliablestore.tx.jta.NarayanaJta",    // module tx-narayana
    })
    void isNotOnTheClassPath(String className) {
        assertThatThrownBy(() -> Class.forName(className, false, getClass().getClassLoader()))
                .isInstanceOf(ClassNotFoundException.class);
    }
}
