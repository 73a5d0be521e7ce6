package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * restore into a ZooKeeper store that an application has open is refused, naming it: the restore rewrites the key
 * salt, and the application would go on deriving its keys from the old one. {@code --ignore-live-members} lets an
 * operator who knows go ahead.
 */
class RestoreLiveMembersZooKeeperTest {

    static TestingServer zookeeper;

    @TempDir
    Path dir;

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

    private static String uri(String chroot) {
        return "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/" + chroot + "?acl=open";
    }

    private static String digest(String store) {
        try (ClusterRegistry r = ClusterRegistries.open(store)) {
            return RegistrySnapshot.take(r, TestStores.root()).contentDigest();
        }
    }

    @Test
    void aRestoreIntoAStoreAnApplicationHasOpenIsRefusedNamingItUnlessOverridden() throws Exception {
        String source = uri("live-source");
        try (StoreFactory f = TestStores.cluster(source)) {
            Map<String, JsonNode> notes = new LinkedHashMap<>();
            for (int i = 0; i < 20; i++) {
                notes.put("N-" + i, Json.MAPPER.createObjectNode().put("text", "note " + i));
            }
            f.store("Note", JsonNode.class).saveBatch(notes);
        }
        Path backup = dir.resolve("notes.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", source, "--out", backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();

        String target = uri("live-target");
        try (StoreFactory application = TestStores.cluster(target + "&nodeName=orders-app-1", "the application's passphrase")) {
            application.store("Note", JsonNode.class).save("mine", Json.MAPPER.createObjectNode().put("text", "the application's"));
            String before = digest(target);

            CliProcess.Result refused = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--force");
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.FAILED);
            assertThat(refused.err()).hasLineCount(1).contains("orders-app-1").contains("key salt")
                    .contains("--ignore-live-members").contains("nothing was changed");
            assertThat(digest(target)).as("the target unchanged").isEqualTo(before);
            assertThat(application.store("Note", JsonNode.class).count()).isEqualTo(1);

            CliProcess.Result overridden = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--force",
                    "--ignore-live-members");
            assertThat(overridden.exitCode()).as(overridden.toString()).isZero();
            assertThat(overridden.out()).contains("20 entities").contains("verified");
        }
    }
}
