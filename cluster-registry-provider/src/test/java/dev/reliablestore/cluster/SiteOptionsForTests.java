package dev.reliablestore.cluster;

import dev.reliablestore.cluster.crypto.KeyStoreFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The options of a multi-site store in tests: encrypted with one passphrase for every site, shipped at once, retried quickly. */
final class SiteOptionsForTests {

    private static final String KEY_STORE_PASSWORD = "key store password of the sites' tests";

    private SiteOptionsForTests() {
    }

    /** A mutable map of the options of the store at {@code localSite} of {@code sites} (site → registry URI). */
    static Map<String, String> options(String localSite, Map<String, String> sites) {
        Map<String, String> o = new HashMap<>();
        o.put("resourceGroupName", "RG");
        o.put("registryKeyPath", "Data");
        o.put("enableEncryption", "true");
        o.put("keyManagementService", "Passphrase");
        o.put("passphrase", "text:one passphrase for every site");
        o.put("localSite", localSite);
        o.put("siteReplicationDelay", "0ms");
        o.put("retryDelay", "100ms");
        sites.forEach((site, uri) -> o.put("sites." + site, uri));
        return o;
    }

    /**
     * The same options with the sites' keys in one PKCS#12 key store under {@code dir} (created
     * the first time) instead of a passphrase. Why: a passphrase costs one Argon2id derivation
     * (19 MiB) per site a factory opens, nine per three factories of three sites; ConfiguredSitesTest
     * ran 14.3 s with them and 11.2 s without. Tests that keep the passphrase (SiteResyncTest,
     * PreferredSiteZooKeeperTest) cover the per-site salts.
     */
    static Map<String, String> withKeyStore(Map<String, String> options, Path dir) {
        Path file = dir.resolve("sites-keys.p12");
        synchronized (SiteOptionsForTests.class) {
            if (!Files.exists(file)) {
                KeyStoreFiles.addNewKey(file, "PKCS12", KEY_STORE_PASSWORD.toCharArray(), "sites-key-1");
            }
        }
        options.remove("passphrase");
        options.put("keyManagementService", "KeyStore");
        options.put("keyStorePath", file.toString());
        options.put("keyStoreType", "PKCS12");
        options.put("keyStorePassword", "text:" + KEY_STORE_PASSWORD);
        return options;
    }
}
