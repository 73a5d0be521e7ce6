package dev.reliablestore.cluster;

import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** TCK with compression and AES-256-GCM encryption (keys from a PKCS#12 file), ASYNC replication. */
class EncryptedClusterTckTest extends ClusterTckBase {

    @TempDir
    static Path keys;
    static final char[] PASSWORD = "tck-key-store-password".toCharArray();

    @BeforeAll
    static void createKeyStore() {
        KeyStoreFiles.addNewKey(keys.resolve("keys.p12"), "PKCS12", PASSWORD, "tck-key-1");
    }

    @Override
    protected ClusterPersistenceConfiguration.Builder configure(ClusterPersistenceConfiguration.Builder b) {
        return b.enableEncryption(true).keyStore(keys.resolve("keys.p12"), "PKCS12", PASSWORD, null)
                .replicationMode(ReplicationMode.ASYNCHRONOUS);
    }
}
