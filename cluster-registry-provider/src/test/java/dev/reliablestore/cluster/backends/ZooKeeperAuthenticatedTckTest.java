package dev.reliablestore.cluster.backends;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.registry.zookeeper.SecureZooKeeperServers;
import dev.reliablestore.tck.EntityStoreTck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The provider TCK over an authenticated ZooKeeper: over Kerberos (a KDC and a server requiring SASL)
 * and over mutual TLS (a server demanding a client certificate), opened through
 * {@link ClusterPersistenceProvider} with the options an application gives. CI runs a subset — CRUD,
 * conditional saves and deletes, batches, reopening — that crosses every path where authentication
 * matters (connect, the ACL check at open, reads, writes, a second session); the whole TCK runs over
 * each with {@code -Dreliablestore.soak=true}. One server per mechanism for the class.
 */
@ExtendWith(ZooKeeperAuthenticatedTckTest.CiSubset.class)
class ZooKeeperAuthenticatedTckTest {

    /** The TCK tests run in CI; the TCK's others only in a soak run. */
    static final Set<String> SUBSET = Set.of("saveThenGetReturnsTheValueAtVersionOne", "existsFollowsSaveAndDelete",
            "saveWithAStaleVersionConflictsAndWritesNothing", "expectedVersionAbsentCreatesOnlyOnce",
            "deleteWithAStaleVersionConflictsAndDeletesNothing", "saveBatchStoresEveryEntryAndReturnsVersionsInEntryOrder",
            "dataAndVersionsSurviveReopening");

    private static final AtomicInteger CHROOTS = new AtomicInteger();

    @TempDir
    static Path dir;
    private static SecureZooKeeperServers.Kerberos kerberos;
    private static SecureZooKeeperServers.Tls tls;
    private static Map<String, String> kerberosClient;
    private static Map<String, String> tlsClient;

    @BeforeAll
    static void startServers() throws Exception {
        kerberos = SecureZooKeeperServers.Kerberos.start(dir.resolve("kerberos"));
        kerberosClient = kerberos.clientOptions("tck");
        tls = SecureZooKeeperServers.Tls.start(dir.resolve("tls"));
        tlsClient = tls.clientOptions("tck");
    }

    @AfterAll
    static void stopServers() throws Exception {
        try {
            if (kerberos != null) {
                kerberos.close();
            }
        } finally {
            if (tls != null) {
                tls.close();
            }
        }
    }

    static ClusterPersistenceConfiguration config(String connectString, String chroot, Map<String, String> registryOptions) {
        ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder()
                .clusterName("zookeeper://" + connectString + chroot)
                .resourceGroupName("ReliableStore-RG")
                .registryKeyPath("Software\\ReliableStore\\Tck")
                .failoverTimeout(Duration.ofSeconds(10))
                .registryOption("sessionTimeout", "10000ms");
        registryOptions.forEach(b::registryOption);
        return b.build();
    }

    /** The TCK on one of the secured servers (read when a test runs: they start in @BeforeAll), a chroot per test. */
    abstract class Secured extends EntityStoreTck {

        private final String scheme;
        private final Supplier<String> connectString;
        private final Supplier<Map<String, String>> client;
        private String chroot;

        Secured(String scheme, Supplier<String> connectString, Supplier<Map<String, String>> client) {
            this.scheme = scheme;
            this.connectString = connectString;
            this.client = client;
        }

        private ClusterPersistenceConfiguration config() {
            return ZooKeeperAuthenticatedTckTest.config(connectString.get(), chroot, client.get());
        }

        @Override
        protected StoreFactory openFactory() {
            chroot = "/tck-" + scheme + "-" + CHROOTS.incrementAndGet();
            return ClusterPersistenceProvider.open(config());
        }

        @Override
        protected Optional<StoreFactory> reopenFactory() {
            return Optional.of(ClusterPersistenceProvider.open(config()));
        }

        @Override
        protected OptionalLong entitySizeLimit() {
            return OptionalLong.of(config().maxValueSizeKB() * 1024L);
        }
    }

    @Nested
    class OverKerberos extends Secured {

        OverKerberos() {
            super("kerberos", () -> kerberos.connectString(), () -> kerberosClient);
        }

        /** The seed's RequireKerberos, in the provider's string form, refuses a configuration without a principal. */
        @Test
        void theSeedsRequireKerberosRefusesAStoreWithoutKerberos() {
            Map<String, String> m = new HashMap<>();
            m.put("clusterName", "zookeeper://" + kerberos.connectString() + "/tck-no-kerberos");
            m.put("resourceGroupName", "ReliableStore-RG");
            m.put("registryKeyPath", "Software\\ReliableStore\\Tck");
            m.put("RequireKerberos", "true");
            m.put("registry.acl", "open");
            assertThatThrownBy(() -> ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.fromMap(m)).close())
                    .isInstanceOf(PersistenceException.class).hasMessageContaining("requireKerberos=true refuses to open");
        }
    }

    @Nested
    class OverMutualTls extends Secured {

        OverMutualTls() {
            super("tls", () -> tls.connectString(), () -> tlsClient);
        }
    }

    /** Enables the TCK's tests of {@link #SUBSET} (all with -Dreliablestore.soak=true) and every test declared here. */
    static final class CiSubset implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Optional<Method> test = context.getTestMethod();
            if (test.isEmpty() || Boolean.getBoolean("reliablestore.soak") || !test.get().getDeclaringClass().equals(EntityStoreTck.class)
                    || SUBSET.contains(test.get().getName())) {
                return ConditionEvaluationResult.enabled("in the CI subset, declared here, or a soak run");
            }
            return ConditionEvaluationResult.disabled("not in the CI subset of the TCK over authenticated ZooKeeper; -Dreliablestore.soak=true runs it");
        }
    }
}
