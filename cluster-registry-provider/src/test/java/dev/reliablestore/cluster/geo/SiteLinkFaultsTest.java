package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.SiteLinkStatus;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Which of the origin's health faults a pair's status (and so `sites status`'s exit code) counts. */
class SiteLinkFaultsTest {

    private static final StorageLayout LAYOUT = new StorageLayout(RegistryPath.of("Store"));

    /** Site names may contain '-': the faults about "eu-west" are not the pair paris → west's. */
    @Test
    void aPairCountsOnlyTheFaultsThatNameItsTargetWhole(@TempDir Path dir) {
        try (ClusterRegistry paris = ClusterRegistries.open("embedded:" + dir.resolve("paris"));
             ClusterRegistry west = ClusterRegistries.open("embedded:" + dir.resolve("west"));
             ClusterRegistry euWest = ClusterRegistries.open("embedded:" + dir.resolve("eu-west"))) {
            paris.addHealthFault(new HealthFault("site-behind-eu-west", 1, 0, "site eu-west is behind", "test", 0));
            paris.addHealthFault(new HealthFault("site-unreachable-eu-west", 1, 0, "site eu-west is unreachable", "test", 0));
            SiteLinkStatus toWest = SiteReplication.linkStatus(LAYOUT, "paris", paris, "west", west, b -> null, Duration.ofSeconds(10));
            SiteLinkStatus toEuWest = SiteReplication.linkStatus(LAYOUT, "paris", paris, "eu-west", euWest, b -> null, Duration.ofSeconds(10));
            assertThat(toWest.faults()).isEmpty();
            assertThat(toWest.healthy()).as(toWest.toString()).isTrue();
            assertThat(toEuWest.faults()).extracting(HealthFault::id).containsExactlyInAnyOrder("site-behind-eu-west", "site-unreachable-eu-west");
            assertThat(toEuWest.healthy()).isFalse();
        }
    }
}
