package dev.reliablestore.cluster.samples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.ValueCodec;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;

import java.util.ArrayList;
import java.util.List;

/** The "Tool API" sample of docs/cluster-registry-provider.md, in a package of its own so that it uses public API only. */
public final class ToolApiSample {

    private ToolApiSample() {
    }

    /** What a tool reports about the store in {@code registryUri}: types, counts, key, entities that do not decode. */
    @SuppressWarnings("unchecked")
    public static List<String> report(String registryUri, String resourceGroup, String keyPath) {
        List<String> report = new ArrayList<>();
        try (ClusterRegistry registry = ClusterRegistries.open(registryUri)) {
            ClusterPersistenceConfiguration config = ClusterPersistenceConfiguration.builder()
                    .clusterName(registry.uri()).resourceGroupName(resourceGroup).registryKeyPath(keyPath).build();
            ClusterStoreAdmin stored = ClusterStoreAdmin.of(registry, config.root()); // reads only: opens and writes nothing
            report.add("layout " + stored.layoutVersion().map(String::valueOf).orElse("none") + ", entities " + stored.counts());
            try (StoreFactory factory = ClusterPersistenceProvider.open(config, registry)) { // closing it leaves the registry open
                ClusterStoreAdmin admin = ClusterStoreAdmin.of(factory);
                report.add("active key " + admin.activeKeyId().orElse("none"));
                for (String type : admin.types()) {
                    ValueCodec<JsonNode> codec = factory.store(type, JsonNode.class).unwrap(ClusterPersistenceStore.class).codec();
                    for (ClusterStoreAdmin.StoredEntity e : admin.entities(type)) {
                        try {
                            if (e.problem() != null) {
                                throw new IllegalStateException(e.problem());
                            }
                            codec.decode(e.id(), e.version(), e.envelope());
                        } catch (RuntimeException bad) {
                            report.add("CORRUPT " + type + "/" + e.id() + ": " + bad.getMessage());
                        }
                    }
                }
            }
            report.add("registry still open: " + registry.status().backend());
        }
        return report;
    }
}
