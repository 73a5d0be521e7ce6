package dev.reliablestore.cluster;

import java.util.HashMap;
import java.util.Map;

/** The options of a multi-site store in tests: encrypted with one passphrase for every site, shipped at once, retried quickly. */
final class SiteOptionsForTests {

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
}
