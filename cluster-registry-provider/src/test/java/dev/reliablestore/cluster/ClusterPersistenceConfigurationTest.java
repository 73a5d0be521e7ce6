package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterPersistenceConfigurationTest {

    static Map<String, String> base() {
        Map<String, String> m = new HashMap<>();
        m.put("resourceGroupName", "ReliableStore-RG");
        m.put("registryKeyPath", "Software\\ReliableStore\\Data");
        return m;
    }

    static Map<String, String> with(String... kv) {
        Map<String, String> m = base();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    static void refused(Map<String, String> config, String... fragments) {
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(config))
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> {
                    for (String f : fragments) {
                        assertThat(e.getMessage()).contains(f);
                    }
                });
    }

    @Test
    void defaultsAreTheSeedTable() {
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.fromMap(base());
        assertThat(c.clusterName()).isEqualTo(ClusterPersistenceConfiguration.DEFAULT_CLUSTER);
        assertThat(c.root().toString()).isEqualTo("ReliableStore-RG/Software/ReliableStore/Data");
        assertThat(c.maxValueSizeKB()).isEqualTo(64);
        assertThat(c.enableCompression()).isTrue();
        assertThat(c.compressionDictionary()).isTrue();
        assertThat(c.replicationMode()).isEqualTo(ReplicationMode.SYNCHRONOUS);
        assertThat(c.failoverTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.nodeAffinity()).isEmpty();
        assertThat(c.minimumNodes()).isEqualTo(1);
        assertThat(c.enableEncryption()).isFalse();
        assertThat(c.keySource()).isEmpty();
        assertThat(c.conflictResolution()).isEqualTo(ConflictResolution.OPTIMISTIC);
        assertThat(c.healthCheckInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.maxRetries()).isEqualTo(3);
        assertThat(c.retryDelay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.enableLocalCache()).isFalse();
        assertThat(c.cacheSize()).isEqualTo(1000);
        assertThat(c.cacheTTL()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.preloadCache()).isFalse();
        assertThat(c.cachedReads("Customer")).isEqualTo(CachedReads.AUTO);
    }

    @Test
    void everyOptionIsReadFromItsStringForm() {
        Properties p = new Properties();
        p.putAll(with("clusterName", "PROD-CLUSTER", "maxValueSizeKB", "256", "enableCompression", "false",
                "replicationMode", "Asynchronous", "failoverTimeout", "PT15S", "nodeAffinity", "NODE1, NODE2,NODE3",
                "minimumNodes", "2", "conflictResolution", "LastWrite", "healthCheckInterval", "5s", "maxRetries", "5",
                "retryDelay", "500ms", "enableLocalCache", "true", "cacheSize", "10", "cacheTTL", "2m",
                "preloadCache", "true", "registry.someOption", "x"));
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.fromProperties(p);
        assertThat(c.clusterName()).isEqualTo("clusapi://PROD-CLUSTER");
        assertThat(c.maxValueSizeKB()).isEqualTo(256);
        assertThat(c.enableCompression()).isFalse();
        assertThat(c.compressionDictionary()).isFalse();
        assertThat(c.replicationMode()).isEqualTo(ReplicationMode.ASYNCHRONOUS);
        assertThat(c.failoverTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.nodeAffinity()).containsExactly("NODE1", "NODE2", "NODE3");
        assertThat(c.minimumNodes()).isEqualTo(2);
        assertThat(c.conflictResolution()).isEqualTo(ConflictResolution.LAST_WRITE_WINS);
        assertThat(c.healthCheckInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.maxRetries()).isEqualTo(5);
        assertThat(c.retryDelay()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.enableLocalCache()).isTrue();
        assertThat(c.cacheSize()).isEqualTo(10);
        assertThat(c.cacheTTL()).isEqualTo(Duration.ofMinutes(2));
        assertThat(c.preloadCache()).isTrue();
        assertThat(c.registryOptions()).containsEntry("someOption", "x");
    }

    /** An empty path is the working directory: an unset variable must not put the audit log or the backups there silently. */
    @Test
    void anEmptyAuditLogOrBackupPathIsRefused() {
        refused(with("enableAuditLogging", "true", "auditLogPath", ""), "auditLogPath", "must name a directory");
        refused(with("backupEnabled", "true", "backupPath", " "), "backupPath", "must name a directory");
    }

    @Test
    void unknownAndMisspeltKeysAreRefusedByName() {
        refused(with("enableCompresion", "true"), "enableCompresion");
        refused(with("EnableCompression", "true"), "EnableCompression", "did you mean \"enableCompression\"");
        refused(with("backupEnabled", "true"), "backupEnabled");
    }

    @Test
    void theSeedsEnableIPSecIsRefusedNamingTheTlsOptions() {
        for (String value : List.of("true", "false")) {
            refused(with("EnableIPSec", value), "EnableIPSec", "does not configure IPsec", "registry.tls=true", "registry.requireTls=true");
        }
        refused(with("enableIPSec", "true"), "EnableIPSec", "registry.requireTls=true");
    }

    @Test
    void theSeedsRequireKerberosIsTheBackendsRequireKerberos() {
        assertThat(ClusterPersistenceConfiguration.fromMap(with("RequireKerberos", "true")).registryOptions())
                .containsEntry("requireKerberos", "true");
        refused(with("RequireKerberos", "true", "registry.requireKerberos", "true"), "RequireKerberos", "registry.requireKerberos", "give one");
    }

    @Test
    void requiredOptionsAreNamed() {
        Map<String, String> m = base();
        m.remove("resourceGroupName");
        refused(m, "resourceGroupName", "required");
        m = base();
        m.remove("registryKeyPath");
        refused(m, "registryKeyPath", "required");
        refused(with("registryKeyPath", "\\\\"), "registryKeyPath");
        refused(with("resourceGroupName", "a/b"), "resourceGroupName");
    }

    @Test
    void limitsAreEnforcedWithValueAndLimitInTheMessage() {
        refused(with("maxValueSizeKB", "1025"), "maxValueSizeKB", "1025", "1024");
        refused(with("maxValueSizeKB", "0"), "maxValueSizeKB");
        refused(with("maxValueSizeKB", "big"), "maxValueSizeKB", "\"big\" is not a whole number");
        refused(with("failoverTimeout", "-5s"), "failoverTimeout", "\"-5s\" is not a duration");
        refused(with("failoverTimeout", "soon"), "failoverTimeout", "not a duration");
        refused(with("healthCheckInterval", "10ms"), "healthCheckInterval", "PT0.05S");
        refused(with("retryDelay", "-1s"), "retryDelay");
        refused(with("retryDelay", "30s"), "retryDelay", "shorter than failoverTimeout");
        refused(with("maxRetries", "101"), "maxRetries", "0..100");
        refused(with("minimumNodes", "0"), "minimumNodes", "1..64");
        refused(with("nodeAffinity", "A,A"), "nodeAffinity", "distinct");
        refused(with("replicationMode", "eventually"), "replicationMode", "eventually");
        refused(with("conflictResolution", "coinflip"), "conflictResolution", "coinflip");
        refused(with("enableCompression", "yes"), "enableCompression", "true or false");
        refused(with("enableLocalCache", "true", "cacheSize", "0"), "cacheSize", "1..");
        refused(with("enableLocalCache", "true", "cacheTTL", "0s"), "cacheTTL");
        refused(with("enableLocalCache", "true", "cachedReads", "always"), "cachedReads", "always", "[Auto, Copy, Share]");
        refused(with("enableLocalCache", "true", "cachedReads.Hot", "maybe"), "cachedReads.Hot", "maybe", "[Auto, Copy, Share]");
        refused(with("enableLocalCache", "true", "cachedReads.A/B", "copy"), "cachedReads.A/B", "does not name an entity type");
    }

    @Test
    void settingsOfAFeatureThatIsOffAreRefusedNotIgnored() {
        refused(with("cacheSize", "10"), "cacheSize", "enableLocalCache is false");
        refused(with("preloadCache", "true"), "preloadCache", "enableLocalCache is false");
        refused(with("cachedReads", "Copy"), "cachedReads = COPY", "enableLocalCache is false");
        refused(with("cachedReads.Hot", "Share"), "cachedReads.Hot = SHARE", "enableLocalCache is false");
        refused(with("encryptionAlgorithm", "AES256"), "encryptionAlgorithm", "enableEncryption is false");
        refused(with("passphrase", "text:x"), "passphrase", "enableEncryption is false");
        refused(with("enableCompression", "false", "compressionDictionary", "true"), "compressionDictionary", "enableCompression");
        refused(with("conflictResolution", "Merge"), "conflictResolution", "ConflictResolver");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.builder().resourceGroupName("g").registryKeyPath("p")
                .conflictResolver(String.class, (id, s, a, e) -> a).build())
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("String");
    }

    @Test
    void encryptionNeedsAKeySource(@TempDir Path dir) throws Exception {
        refused(with("enableEncryption", "true"), "enableEncryption", "keyManagementService");
        refused(with("enableEncryption", "true", "encryptionAlgorithm", "DES"), "encryptionAlgorithm", "DES");
        refused(with("enableEncryption", "true", "keyManagementService", "AzureKeyVault"), "keyManagementService", "AzureKeyVault");
        refused(with("enableEncryption", "true", "keyManagementService", "KeyStore"), "keyStorePath");
        refused(with("enableEncryption", "true", "keyManagementService", "KeyStore", "keyStorePath", "k.bcfks"), "keyStorePassword");
        refused(with("enableEncryption", "true", "keyManagementService", "Passphrase"), "passphrase");
        refused(with("enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", "text:pw",
                "keyStorePath", "x"), "keyStorePath", "does not apply");
        refused(with("enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", "hunter2"),
                "secret reference");
        refused(with("enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase",
                "env:RELIABLESTORE_SURELY_UNSET_VARIABLE"), "RELIABLESTORE_SURELY_UNSET_VARIABLE", "not set");
        Path secret = Files.writeString(dir.resolve("pw"), "s3cret-value\n");
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.fromMap(with("enableEncryption", "true",
                "keyManagementService", "Passphrase", "passphrase", "file:" + secret, "previousPassphrases", "text:old-one"));
        assertThat(c.keySource()).isPresent();
        assertThat(c.toString()).doesNotContain("s3cret-value").doesNotContain("old-one");
        ClusterPersistenceConfiguration ks = ClusterPersistenceConfiguration.fromMap(with("enableEncryption", "true",
                "keyManagementService", "keystore", "keyStorePath", dir.resolve("k.p12").toString(), "keyStoreType", "PKCS12",
                "keyStorePassword", "text:store-password-123"));
        assertThat(ks.toString()).doesNotContain("store-password-123").contains("PKCS12");
        refused(with("enableEncryption", "true", "keyManagementService", "keystore", "keyStorePath", "x",
                "keyStoreType", "JKS", "keyStorePassword", "text:p"), "JKS");
    }

    @Test
    void builderValidatesLikeTheStringForm() {
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.builder().resourceGroupName("g").registryKeyPath("p")
                .failoverTimeout(Duration.ofSeconds(-1)).build()).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("failoverTimeout");
        assertThatThrownBy(() -> ClusterPersistenceConfiguration.builder().resourceGroupName("g").registryKeyPath("p")
                .nodeAffinity(List.of("a", " ")).build()).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("nodeAffinity");
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.builder().resourceGroupName("g").registryKeyPath("a/b")
                .conflictResolution(ConflictResolution.MERGE).conflictResolver(String.class, (id, s, a, e) -> s.value() + a)
                .build();
        assertThat(c.conflictResolver(String.class)).isPresent();
        assertThat(c.conflictResolver(Integer.class)).isEmpty();
    }

    @Test
    void settingsThatExistAtBothLayersAreSetOnceAndPassedDownToABackendThatHasThem() {
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.fromMap(with("failoverTimeout", "7s", "minimumNodes", "2",
                "nodeAffinity", "a, b", "registry.sessionTimeout", "4s"));
        assertThat(c.registryOptions(java.util.Set.of("failoverTimeout", "minNodes", "nodeAffinity", "sessionTimeout")))
                .containsEntry("failoverTimeout", "7s").containsEntry("minNodes", "2").containsEntry("nodeAffinity", "a,b")
                .containsEntry("sessionTimeout", "4s");
        assertThat(c.registryOptions(java.util.Set.of())).as("a backend without them gets only its own").containsOnlyKeys("sessionTimeout");
        ClusterPersistenceConfiguration own = ClusterPersistenceConfiguration.fromMap(with("failoverTimeout", "7s", "registry.failoverTimeout", "2s"));
        assertThat(own.registryOptions(java.util.Set.of("failoverTimeout"))).as("registry.* sets the backend's alone")
                .containsEntry("failoverTimeout", "2s");
        // so does the registry URI's query: the backend's options map would win over it
        ClusterPersistenceConfiguration query = ClusterPersistenceConfiguration.fromMap(Map.of("clusterName",
                "zookeeper://h:1/c?minNodes=2&node%41ffinity=a,b&failoverTimeout=5m", "resourceGroupName", "App-RG",
                "registryKeyPath", "Software/App", "failoverTimeout", "7s"));
        assertThat(query.registryOptions(java.util.Set.of("failoverTimeout", "minNodes", "nodeAffinity")))
                .as("the query's settings are not passed down over").isEmpty();
        assertThat(dev.reliablestore.registry.ClusterRegistries.optionNames("zookeeper://h:1/c")).contains("failoverTimeout", "minNodes", "nodeAffinity");
        assertThat(dev.reliablestore.registry.ClusterRegistries.optionNames("embedded:x")).doesNotContain("failoverTimeout");
    }
}
