package dev.reliablestore.cluster;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;

import java.nio.file.Path;

/** Configurations and registries over an embedded registry directory. */
final class EmbeddedFixture {

    static final String GROUP = "RG";
    static final String KEY_PATH = "Software/ReliableStore/Data";

    private EmbeddedFixture() {
    }

    static String uri(Path dir) {
        return "embedded:" + dir.resolve("registry");
    }

    static ClusterPersistenceConfiguration.Builder config(Path dir) {
        return ClusterPersistenceConfiguration.builder().clusterName(uri(dir)).resourceGroupName(GROUP).registryKeyPath(KEY_PATH);
    }

    static ClusterRegistry openRegistry(Path dir) {
        return ClusterRegistries.open(uri(dir));
    }
}
