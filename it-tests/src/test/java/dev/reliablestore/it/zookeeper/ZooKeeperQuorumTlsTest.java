package dev.reliablestore.it.zookeeper;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.zookeeper.SecureZooKeeperServers;
import dev.reliablestore.registry.zookeeper.ZooKeeperRegistryBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Quorum TLS between the servers, configured as docs/zookeeper-backend.md (TLS) gives it: two servers
 * with certificates of one CA form the quorum over TLS and serve the registry; a third whose
 * certificate another CA issued is refused in the handshake and never joins. Three server JVMs:
 * only with -Dreliablestore.soak=true (it checks the servers' configuration, not ReliableStore code).
 */
@EnabledIfSystemProperty(named = "reliablestore.soak", matches = "true")
class ZooKeeperQuorumTlsTest {

    @TempDir
    Path dir;

    private ZooKeeperEnsemble ensemble;

    @AfterEach
    void stop() {
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @Test
    void serversOfOneCaFormTheQuorumOverTlsAndAServerOfAnotherCaCannotJoin() throws Exception {
        ensemble = new ZooKeeperEnsemble(dir.resolve("zk"), 3, 500);
        List<String> trusted = SecureZooKeeperServers.quorumTls(dir.resolve("ca"), "quorum CA");
        ensemble.addConfig(0, trusted);
        ensemble.addConfig(1, trusted);
        ensemble.addConfig(2, SecureZooKeeperServers.quorumTls(dir.resolve("other-ca"), "another CA"));
        ensemble.start(0);
        ensemble.start(1);

        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> ensemble.mode(0) != null && ensemble.mode(1) != null);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("servers 1 and 2 formed no quorum; their logs:\n" + ensemble.log(0) + "\n----\n" + ensemble.log(1), e);
        }
        assertThat(List.of(ensemble.mode(0), ensemble.mode(1))).containsExactlyInAnyOrder("leader", "follower");
        // the third is refused in the TLS handshake (by either side), so it serves nothing
        ensemble.start(2);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> (ensemble.log(0) + ensemble.log(1) + ensemble.log(2)).contains("SSLHandshakeException"));
        assertThat(ensemble.mode(2)).isNull();

        // every write goes from the leader to the follower over TLS before it is acknowledged
        RegistryPath key = RegistryPath.of("Entities", "Customer");
        try (ClusterRegistry r = new ZooKeeperRegistryBackend().open(URI.create("zookeeper://" + ensemble.connectString(0, 1) + "/quorum-tls"),
                Map.of("acl", "open"))) {
            r.commit(WriteBatch.builder().setValue(key, "C-1", RegistryValue.sz("over quorum TLS")).build());
        }
        int follower = "follower".equals(ensemble.mode(0)) ? 0 : 1;
        try (ClusterRegistry r = new ZooKeeperRegistryBackend().open(URI.create("zookeeper://" + ensemble.connectString(follower) + "/quorum-tls"),
                Map.of("acl", "open", "readConsistency", "linearizable"))) {
            assertThat(r.getValue(key, "C-1")).hasValueSatisfying(v -> assertThat(v.value()).isEqualTo(RegistryValue.sz("over quorum TLS")));
        }
    }
}
