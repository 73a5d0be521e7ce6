package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/** The embedded backend with groupCommit=leader (committers take turns writing the log) against the contract. */
class EmbeddedLeaderFollowerConformanceTest extends ClusterRegistryConformance {

    private static final Map<String, String> OPTIONS = Map.of("groupCommit", "leader", "snapshotThreshold", "64KiB");

    @TempDir
    Path dir;

    @Override
    protected ClusterRegistry openRegistry() {
        return ClusterRegistries.open("embedded:" + dir.resolve("registry"), OPTIONS);
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return ClusterRegistries.open("embedded:" + dir.resolve("registry"), OPTIONS);
    }

    /** A snapshot now, with every log segment it covers taken as older than feedRetention. */
    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) {
        ((EmbeddedRegistry) current).snapshotNow(Long.MAX_VALUE);
        return true;
    }
}
