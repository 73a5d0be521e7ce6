package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code zk secure} against a real ZooKeeper server, the securing run as a separate process (its credentials from the
 * environment, as the docs show), its dry runs in this JVM; the attacker is a plain client without credentials.
 */
@SuppressWarnings("try") // plain ZooKeeper handles as resources: their close() may throw InterruptedException, which the tests declare
class ZkSecureProcessTest {

    static final String DIGEST = "ops:ops-secret";

    static TestingServer zookeeper;

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zookeeper = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        if (zookeeper != null) {
            zookeeper.close();
        }
    }

    @BeforeEach
    void start() {
        cli = new CliProcess(dir, Map.of("ZK_DIGEST", DIGEST));
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    private static ZooKeeper anonymous() throws Exception {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        ZooKeeper zk = new ZooKeeper(zookeeper.getConnectString(), 10_000, event -> { }, config);
        await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10)).until(() -> zk.getState().isConnected());
        return zk;
    }

    @Test
    void zkSecureProtectsAStoreWrittenWithoutCredentialsAndItsDryRunChangesNothing() throws Exception {
        String store = "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/secured";
        try (StoreFactory f = TestStores.cluster(store + "?acl=open")) {
            f.store("Customer", JsonNode.class).save("C-1", Json.MAPPER.createObjectNode().put("name", "Acme"));
        }

        // in this JVM the credentials come from a file: its environment cannot be set
        String digestFile = java.nio.file.Files.writeString(dir.resolve("digest"), DIGEST).toString();
        CliProcess.Result dry = CliProcess.inProcess("zk", "secure", "--store", store, "--registry-secret-file", "digest=" + digestFile,
                "--dry-run", "--json");
        assertThat(dry.exitCode()).as(dry.toString()).isEqualTo(3);
        JsonNode d = Json.MAPPER.readTree(dry.out());
        int znodes = d.get("passes").get(0).get("checked").asInt();
        assertThat(znodes).isGreaterThan(10);
        assertThat(d.get("changed").asInt()).isEqualTo(znodes);
        assertThat(d.get("dryRun").asBoolean()).isTrue();
        assertThat(d.get("markerWritten").asBoolean()).isFalse();
        assertThat(d.get("markerStood").asBoolean()).isFalse();
        assertThat(d.get("acl").asText()).isEqualTo("[digest:ops cdrwa]");
        assertThat(d.get("changes").get(0).get("znode").asText()).isEqualTo("/secured");
        assertThat(d.get("changes").get(0).get("acl").asText()).isEqualTo("[world:anyone cdrwa]");
        try (ZooKeeper anonymous = anonymous()) {
            // the dry run wrote nothing: still open to anyone, no marker
            assertThat(anonymous.getChildren("/secured", false)).contains("data").doesNotContain("acl-verified");
        }

        // the credentials from the environment, as the docs show: nothing secret on the command line
        CliProcess.Result secured = cli.run("zk", "secure", "--store", store, "--registry-secret-env", "digest=ZK_DIGEST");
        assertThat(secured.exitCode()).as(secured.toString()).isZero();
        assertThat(secured.out()).contains("set /secured (was [world:anyone cdrwa])")
                .contains("pass 1: checked " + znodes + " znodes, changed " + znodes)
                .contains("pass 2: checked " + znodes + " znodes, changed 0")
                .contains("secured /secured of " + store + ": every znode carries [digest:ops cdrwa]; marker /secured/acl-verified written");
        assertThat(secured.out() + secured.err() + dry.out() + dry.err()).doesNotContain("ops-secret");
        CliProcess.Result check = CliProcess.inProcess("zk", "secure", "--store", store, "--registry-secret-file", "digest=" + digestFile,
                "--dry-run");
        assertThat(check.exitCode()).as(check.toString()).isZero();
        assertThat(check.out()).contains("dry run: every znode of /secured carries [digest:ops cdrwa]").doesNotContain("marker");

        try (StoreFactory f = TestStores.cluster(store + "?digest=" + DIGEST)) {
            assertThat(f.store("Customer", JsonNode.class).get("C-1").orElseThrow().value().get("name").asText()).isEqualTo("Acme");
        }
        try (ZooKeeper anonymous = anonymous()) {
            assertThatThrownBy(() -> anonymous.getChildren("/secured", false)).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> anonymous.getData("/secured/acl-verified", false, null)).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> anonymous.create("/secured/intruder", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT))
                    .isInstanceOf(KeeperException.NoAuthException.class);
        }
    }

    @Test
    void zkSecureNeedsAZooKeeperStoreAndCredentials() {
        CliProcess.Result embedded = CliProcess.inProcess("zk", "secure", "--store", "embedded:" + dir.resolve("e"));
        assertThat(embedded.exitCode()).isEqualTo(2);
        assertThat(embedded.err()).contains("zookeeper:// stores");
        CliProcess.Result open = CliProcess.inProcess("zk", "secure", "--store", "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/x?acl=open");
        assertThat(open.exitCode()).as(open.toString()).isEqualTo(2);
        assertThat(open.err()).contains("digest=user:password");
        assertThat(CliProcess.inProcess("zk").exitCode()).isEqualTo(2);
        CliProcess.Result unset = CliProcess.inProcess("zk", "secure", "--store", "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/x",
                "--registry-secret-env", "digest=RS_TEST_SURELY_UNSET_VARIABLE");
        assertThat(unset.exitCode()).as(unset.toString()).isEqualTo(2);
        assertThat(unset.err()).contains("environment variable \"RS_TEST_SURELY_UNSET_VARIABLE\" (from env:RS_TEST_SURELY_UNSET_VARIABLE) is not set").hasLineCount(1);
    }
}
