package dev.reliablestore.tx.jta;

import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Recovery's connection to a database: one that died (a database restart) fails a scan, and the
 * next scan opens a new one instead of failing on the dead one for ever (leaving the database's
 * prepared branches holding their locks).
 */
class DataSourceRecoveryTest {

    @TempDir
    Path dir;

    @Test
    void aScanThatFailsOnItsConnectionMakesTheNextScanOpenANewOne() throws Exception {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + "/db");
        h2.setUser("sa");
        AtomicInteger opened = new AtomicInteger();
        AtomicBoolean dead = new AtomicBoolean(true); // the first connection's server went away
        XADataSource counting = (XADataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XADataSource.class},
                (p, m, args) -> {
                    Object r = m.invoke(h2, args);
                    if (!(r instanceof XAConnection x)) {
                        return r;
                    }
                    boolean thisOneDead = opened.incrementAndGet() == 1 && dead.get();
                    return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XAConnection.class},
                            (p2, m2, args2) -> m2.getName().equals("getXAResource") && thisOneDead
                                    ? Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XAResource.class}, (p3, m3, a3) -> {
                                        if (m3.getName().equals("recover")) {
                                            XAException gone = new XAException("connection closed");
                                            gone.errorCode = XAException.XAER_RMFAIL;
                                            throw gone;
                                        }
                                        return m3.invoke(x.getXAResource(), a3);
                                    })
                                    : m2.invoke(x, args2));
                });
        try (JtaDataSource.Recovery recovery = new JtaDataSource.Recovery(counting, null)) {
            XAResource first = recovery.getXAResources()[0];
            assertThatThrownBy(() -> first.recover(XAResource.TMSTARTRSCAN)).isInstanceOf(XAException.class);
            XAResource second = recovery.getXAResources()[0];
            assertThat(second.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)).isEmpty();
            assertThat(opened).as("a new connection for the scan after the failed one").hasValue(2);
            recovery.getXAResources();
            assertThat(opened).as("a healthy connection is kept").hasValue(2);
        }
    }

    /**
     * A data source without a name given is named after its driver and URL: the same in the next run
     * (Narayana matches the name it logged), different for another database, and not the URL itself
     * (it may hold a password; the name is written to Narayana's log).
     */
    @Test
    void aDataSourceIsNamedAfterItsDriverAndUrl() {
        JdbcDataSource a = new JdbcDataSource();
        a.setURL("jdbc:h2:mem:a;PASSWORD=secret");
        JdbcDataSource sameDatabase = new JdbcDataSource();
        sameDatabase.setURL("jdbc:h2:mem:a;PASSWORD=secret");
        JdbcDataSource b = new JdbcDataSource();
        b.setURL("jdbc:h2:mem:b");
        String name = JtaDataSource.defaultName(a);
        assertThat(name).startsWith(JdbcDataSource.class.getName() + "#").doesNotContain("secret");
        assertThat(JtaDataSource.defaultName(sameDatabase)).isEqualTo(name);
        assertThat(JtaDataSource.defaultName(b)).isNotEqualTo(name);
        XADataSource noUrl = (XADataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {XADataSource.class},
                (p, m, args) -> null);
        assertThat(JtaDataSource.defaultName(noUrl)).isNull();
        assertThat(new JtaDataSource.Recovery(a, name).jndiName).isEqualTo(JtaDataSource.JNDI_PREFIX + name);
    }
}
