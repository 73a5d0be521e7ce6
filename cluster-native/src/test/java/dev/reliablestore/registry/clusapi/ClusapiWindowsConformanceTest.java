package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import java.net.URI;
import java.util.Map;
import java.util.UUID;

/**
 * The conformance suite against a real failover cluster: Windows only, and only when
 * {@code RELIABLESTORE_TEST_CLUSTER} names the cluster ("." = the local one). Each test uses its own
 * base key {@code ReliableStoreTest\<uuid>}, deleted afterwards. See docs/windows.md.
 */
@EnabledOnOs(OS.WINDOWS)
@EnabledIfEnvironmentVariable(named = WindowsClusterSupport.ENV, matches = ".+")
class ClusapiWindowsConformanceTest extends ClusterRegistryConformance {

    private String base;

    private ClusterRegistry open() {
        Map<String, String> options = System.getenv("RELIABLESTORE_TEST_FAILED_COMMAND_BASE") == null ? Map.of()
                : Map.of("failedCommandBase", System.getenv("RELIABLESTORE_TEST_FAILED_COMMAND_BASE"));
        return new ClusapiBackend().open(URI.create("clusapi://" + WindowsClusterSupport.authority() + "/ReliableStoreTest/" + base),
                options);
    }

    @Override
    protected ClusterRegistry openRegistry() {
        base = UUID.randomUUID().toString();
        return open();
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return open();
    }

    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) {
        return ClusapiFakeConformanceTest.expire(current);
    }

    @Override
    protected void cleanup() {
        try (ClusterRegistry r = open()) {
            for (HealthFault f : r.healthFaults()) {
                r.removeHealthFault(f.id());
            }
        }
        WindowsClusterSupport.deleteTree(ClusApi.instance(), "ReliableStoreTest\\" + base);
    }
}
