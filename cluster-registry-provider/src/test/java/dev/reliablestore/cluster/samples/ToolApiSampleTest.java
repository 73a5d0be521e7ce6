package dev.reliablestore.cluster.samples;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ToolApiSampleTest {

    record Order(String item, int quantity) {
    }

    @TempDir
    Path dir;

    @Test
    void theDocsShowTheSampleAsCompiled() throws Exception {
        List<String> sample = Files.readAllLines(Path.of("src/test/java/dev/reliablestore/cluster/samples/ToolApiSample.java"));
        int from = sample.indexOf("        try (ClusterRegistry registry = ClusterRegistries.open(registryUri)) {");
        int to = sample.subList(from, sample.size()).indexOf("        }") + from;
        String body = sample.subList(from, to + 1).stream().map(line -> line.isEmpty() ? line : line.substring(8))
                .collect(Collectors.joining("\n"));
        assertThat(Files.readString(Path.of("../docs/cluster-registry-provider.md"))).contains(body);
    }

    @Test
    void theSampleReportsWhatIsStoredAndLeavesTheRegistryToItsOwner() {
        String uri = "embedded:" + dir.resolve("registry");
        assertThat(ToolApiSample.report(uri, "RG", "Data")).first().isEqualTo("layout none, entities {}");

        ClusterPersistenceConfiguration config = ClusterPersistenceConfiguration.builder().clusterName(uri)
                .resourceGroupName("RG").registryKeyPath("Data").build();
        try (StoreFactory factory = ClusterPersistenceProvider.open(config)) {
            factory.store("Order", Order.class).saveBatch(Map.of("O-1", new Order("pen", 2), "O-2", new Order("ink", 1)));
        }
        try (ClusterRegistry registry = ClusterRegistries.open(uri)) { // an envelope replaced outside the store, with its version
            StorageLayout layout = new StorageLayout(RegistryPath.of("RG", "Data"));
            registry.commit(WriteBatch.builder().setValue(layout.type("Order"), "O-2", RegistryValue.binary(new byte[] {1, 2, 3}))
                    .setValue(layout.versions("Order"), "O-2", RegistryValue.qword(1)).build());
        }

        assertThat(ToolApiSample.report(uri, "RG", "Data")).satisfiesExactly(
                line -> assertThat(line).isEqualTo("layout 1, entities {Order=2}"),
                line -> assertThat(line).isEqualTo("active key none"),
                line -> assertThat(line).startsWith("CORRUPT Order/O-2: "),
                line -> assertThat(line).startsWith("registry still open: "));
    }
}
