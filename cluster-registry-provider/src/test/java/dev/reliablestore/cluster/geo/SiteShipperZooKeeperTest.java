package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.reliablestore.cluster.geo.SiteShipperTest.DATA;
import static dev.reliablestore.cluster.geo.SiteShipperTest.data;
import static dev.reliablestore.cluster.geo.SiteShipperTest.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The shipper between an embedded site and a ZooKeeper site (one in-process server), both ways. */
class SiteShipperZooKeeperTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    private ClusterRegistry zookeeperSite() {
        return keep(ClusterRegistries.open(ZK.newOpenRegistryUri("site")));
    }

    private ClusterRegistry embeddedSite(String name) {
        return keep(ClusterRegistries.open("embedded:" + dir.resolve(name)));
    }

    private SiteShipper ship(ClusterRegistry from, String site, ClusterRegistry to) {
        return keep(SiteShipperTest.copying(from, site, to, Duration.ofSeconds(5)));
    }

    @Test
    void fromEmbeddedToZooKeeperAndAShipperRestartShipsOnlyWhatIsNew() {
        ClusterRegistry eu = embeddedSite("eu");
        ClusterRegistry us = zookeeperSite();
        SiteShipper shipper = ship(eu, "eu", us);
        for (int i = 0; i < 100; i++) {
            write(eu, i);
        }
        long last = eu.currentSequence();
        await().atMost(Duration.ofSeconds(30)).until(() -> shipper.checkpoint() == last);
        assertThat(data(us)).isEqualTo(data(eu)).containsEntry("last", 99L);
        assertThat(shipper.shipped()).isEqualTo(100);
        shipper.close();

        write(eu, 100);
        SiteShipper again = ship(eu, "eu", us);
        long newest = eu.currentSequence();
        await().atMost(Duration.ofSeconds(30)).until(() -> again.checkpoint() == newest);
        assertThat(again.shipped()).isEqualTo(1);
        assertThat(data(us)).isEqualTo(data(eu));
    }

    @Test
    void fromZooKeeperToEmbeddedWithPipelinedWritesAtTheOrigin() {
        ClusterRegistry us = zookeeperSite();
        ClusterRegistry eu = embeddedSite("eu");
        SiteShipper shipper = ship(us, "us", eu);
        for (int i = 0; i < 100; i++) {
            write(us, i); // every other one ASYNC: several batches in flight on the ZooKeeper session
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> data(us).getOrDefault("last", -1L) == 99L);
        long last = us.currentSequence();
        await().atMost(Duration.ofSeconds(30)).until(() -> shipper.checkpoint() == last);
        assertThat(data(eu)).isEqualTo(data(us)).containsEntry("last", 99L);
        assertThat(eu.keyExists(DATA)).isTrue();
        assertThat(shipper.failure()).isNull();
    }
}
