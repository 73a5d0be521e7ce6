package dev.reliablestore.cluster.samples;

import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class MaintenanceSampleTest {

    @Test
    void theDocsShowTheSampleAsCompiled() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/cluster/samples/MaintenanceSample.java"));
        String body = source.substring(source.indexOf("        // sample-start\n") + "        // sample-start\n".length(),
                source.indexOf("        // sample-end")).lines().map(line -> line.isEmpty() ? line : line.substring(8))
                .collect(Collectors.joining("\n"));
        assertThat(Files.readString(Path.of("../docs/reliability.md"))).contains(body);
    }

    /** Three application nodes on a real ZooKeeper server; the sample runs on node b's store and moves the role of node a. */
    @SuppressWarnings("try") // node a only has to be live while the sample runs
    @Test
    void theSampleDrainsResumesAndMovesThePrimaryAndEveryMoveIsReportedAsRequested() throws Exception {
        try (TestingServer zookeeper = new TestingServer(true)) {
            String uri = "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/maintenance?acl=open";
            try (ClusterRegistry a = ClusterRegistries.open(uri, Map.of("nodeName", "a"));
                 ClusterRegistry b = ClusterRegistries.open(uri, Map.of("nodeName", "b"));
                 ClusterRegistry c = ClusterRegistries.open(uri, Map.of("nodeName", "c"));
                 StoreFactory factory = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(uri)
                         .resourceGroupName("RG").registryKeyPath("Data").build(), b)) {
                await().atMost(Duration.ofSeconds(10)).until(() -> b.status().primary().equals(Optional.of("a")));
                c.drain("c");

                List<Object> seen = MaintenanceSample.maintain(factory, "a", "c");

                assertThat(b.status().primary()).contains("a");
                // a -> b when a was drained, b -> a on the failover (observers may see a moment without a primary)
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(seen).filteredOn(StoreEvent.NodeFailover.class::isInstance)
                        .map(e -> (StoreEvent.NodeFailover) e).filteredOn(f -> f.newNode() != null)
                        .extracting(f -> f.newNode() + " requested " + f.requested()).containsExactly("b requested true", "a requested true"));
                assertThat(seen).filteredOn(StoreEvent.NodeFailover.class::isInstance).allMatch(e -> ((StoreEvent.NodeFailover) e).requested());
                assertThat(seen).filteredOn(String.class::isInstance).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                        .isEqualTo("DRAINED: node c is drained; resume it first");
            }
        }
    }
}
