package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.crypto.KeySources;

import java.util.ArrayList;
import java.util.List;

/** Opens the stores the tool works on directly through the provider, to seed and check data in tests. */
final class TestStores {

    private TestStores() {
    }

    /** The cluster-registry provider on {@code registryUri} at the tool's default root; passphrases current first (none: unencrypted). */
    static StoreFactory cluster(String registryUri, String... passphrases) {
        return clusterAt(registryUri, StoreSpec.DEFAULT_KEY_PATH, passphrases);
    }

    /** As {@link #cluster}, under key path {@code keyPath} of the tool's default resource group. */
    static StoreFactory clusterAt(String registryUri, String keyPath, String... passphrases) {
        ClusterPersistenceConfiguration.Builder b = ClusterPersistenceConfiguration.builder()
                .clusterName(registryUri)
                .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP)
                .registryKeyPath(keyPath);
        if (passphrases.length > 0) {
            List<char[]> keys = new ArrayList<>();
            for (String p : passphrases) {
                keys.add(p.toCharArray());
            }
            b.enableEncryption(true).keySource(KeySources.passphrase(keys));
        }
        return ClusterPersistenceProvider.open(b.build());
    }

    static dev.reliablestore.registry.RegistryPath root() {
        return dev.reliablestore.registry.RegistryPath.of("ReliableStore-RG", "Software", "ReliableStore", "Data");
    }
}
