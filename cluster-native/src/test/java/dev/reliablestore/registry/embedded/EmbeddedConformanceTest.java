package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/** The embedded backend against the contract, opened by URI through ServiceLoader like an application would. */
class EmbeddedConformanceTest extends ClusterRegistryConformance {

    @TempDir
    Path dir;

    @Override
    protected ClusterRegistry openRegistry() {
        return ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of("nodeName", "test-node"));
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of("nodeName", "test-node"));
    }

    /** A snapshot now, with every log segment it covers taken as older than feedRetention. */
    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) {
        ((EmbeddedRegistry) current).snapshotNow(Long.MAX_VALUE);
        return true;
    }
}
