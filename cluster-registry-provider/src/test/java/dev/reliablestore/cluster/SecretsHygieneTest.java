package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.cluster.crypto.KeySources;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** No configuration or key object prints a password, a passphrase or key bytes. */
class SecretsHygieneTest {

    @TempDir
    Path dir;

    @Test
    void configurationsAndKeySourcesPrintNoSecrets() {
        Path keys = dir.resolve("keys.bcfks");
        KeyStoreFiles.addNewKey(keys, "BCFKS", "store-pw-s3cr3t".toCharArray(), "k1");
        ClusterPersistenceConfiguration keyStore = ClusterPersistenceConfiguration.fromMap(Map.of(
                "clusterName", EmbeddedFixture.uri(dir), "resourceGroupName", "RG", "registryKeyPath", "A/B",
                "enableEncryption", "true", "keyManagementService", "KeyStore", "keyStorePath", keys.toString(),
                "keyStorePassword", "text:store-pw-s3cr3t"));
        ClusterPersistenceConfiguration passphrase = ClusterPersistenceConfiguration.fromMap(Map.of(
                "clusterName", EmbeddedFixture.uri(dir), "resourceGroupName", "RG", "registryKeyPath", "A/B",
                "enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", "text:current-pp-s3cr3t",
                "previousPassphrases", "text:old-pp-s3cr3t"));
        KeySource source = KeySources.passphrase(List.of("current-pp-s3cr3t".toCharArray()));
        KeyRing ring = source.load(() -> new byte[16]);
        byte[] key = ring.key(ring.activeKeyId()).getEncoded();
        for (Object o : List.of(keyStore, passphrase, keyStore.keySource().orElseThrow(), passphrase.keySource().orElseThrow(), source, ring,
                KeySources.keyStore(keys, "BCFKS", "store-pw-s3cr3t".toCharArray(), null).load(() -> new byte[16]))) {
            assertThat(o.toString()).doesNotContain("s3cr3t").doesNotContain(HexFormat.of().formatHex(key))
                    .doesNotContain(Base64.getEncoder().encodeToString(key));
        }
        assertThat(ring.toString()).contains(ring.activeKeyId());
    }

    /** A literal digest in a registry URI (still accepted for one release) is not shown by the configuration. */
    @Test
    void registryUrisAreShownWithoutTheirSecrets() {
        ClusterPersistenceConfiguration sites = ClusterPersistenceConfiguration.fromMap(Map.of(
                "clusterName", "zookeeper://127.0.0.1:1/paris?digest=app:s3cr3t", "resourceGroupName", "RG", "registryKeyPath", "A/B",
                "sites.paris", "zookeeper://127.0.0.1:1/paris?digest=app:s3cr3t",
                "sites.tokyo", "zookeeper://127.0.0.1:1/tokyo?tlsTrustStorePassword=s3cr3t", "localSite", "paris"));
        assertThat(sites.toString()).doesNotContain("s3cr3t").contains("paris?digest=***").contains("tokyo?tlsTrustStorePassword=***");
    }

    /** A site configuration refused at start-up names the URIs it compared without their secrets. */
    @Test
    void aRefusedSiteConfigurationShowsItsUrisWithoutTheirSecrets() {
        String paris = "zookeeper://127.0.0.1:1/paris?digest=app:s3cr3t";
        for (Map<String, String> refused : List.of(
                Map.of("sites.paris", paris, "sites.tokyo", paris, "localSite", "paris"),
                Map.of("sites.paris", paris, "sites.tokyo", "zookeeper://127.0.0.1:1/tokyo", "localSite", "paris",
                        "clusterName", paris + "&x=1"))) {
            Map<String, String> options = new java.util.HashMap<>(Map.of("resourceGroupName", "RG", "registryKeyPath", "A/B"));
            options.putAll(refused);
            assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(options)).as(refused.toString())
                    .isInstanceOf(ConfigurationException.class).hasMessageNotContaining("s3cr3t");
        }
    }

    /**
     * A remote site's registry is opened in the background, where a query that cannot be parsed would
     * read as an outage retried for ever: it is refused when the configuration is built.
     */
    @Test
    void aSiteUriWhoseQueryDoesNotParseIsRefusedWhenTheConfigurationIsBuilt() {
        for (String tokyo : List.of("zookeeper://127.0.0.1:1/tokyo?sessionTimeout=1s&sessionTimeout=60s",
                "zookeeper://127.0.0.1:1/tokyo?tls=true;digest=app:s3cr3t", "zookeeper://127.0.0.1:1/tokyo?digest:app:s3cr3t")) {
            Map<String, String> options = new java.util.HashMap<>(Map.of("resourceGroupName", "RG", "registryKeyPath", "A/B",
                    "sites.paris", "zookeeper://127.0.0.1:1/paris", "sites.tokyo", tokyo, "localSite", "paris"));
            assertThatThrownBy(() -> ClusterPersistenceConfiguration.fromMap(options)).as(tokyo)
                    .isInstanceOf(ConfigurationException.class).hasMessageContaining("option sites.tokyo is not a registry URI that opens")
                    .hasMessageNotContaining("s3cr3t").satisfies(e -> assertThat(e.getCause()).isNull());
        }
    }
}
