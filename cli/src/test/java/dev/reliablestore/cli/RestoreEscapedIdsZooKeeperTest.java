package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code restore --force} into ZooKeeper of entities whose ids ZooKeeper escapes in its znode paths (private-use
 * characters: five bytes each there, two in a batch's encoded size), so that a batch within the registry's declared
 * limits needs a request larger than the servers take: the batch goes in halves, and the store is replaced whole.
 */
class RestoreEscapedIdsZooKeeperTest {

    static final int ENTITIES = 600;

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

    private static String id(int i) {
        return String.format("%05d", i) + "\uE000".repeat(245);
    }

    @Test
    void aBackupWhoseIdsZooKeeperEscapesReplacesAPopulatedStore() throws Exception {
        String source = uri("escaped-source");
        String target = uri("escaped-target");
        Map<String, JsonNode> saved = new TreeMap<>();
        try (StoreFactory f = TestStores.cluster(source)) {
            EntityStore<JsonNode> notes = f.store("Note", JsonNode.class);
            for (int from = 0; from < ENTITIES; from += 50) {
                Map<String, JsonNode> batch = new LinkedHashMap<>();
                for (int i = from; i < from + 50; i++) {
                    batch.put(id(i), Json.MAPPER.createObjectNode().put("text", "note " + i));
                }
                notes.saveBatch(batch);
                saved.putAll(batch);
            }
        }
        Path backup = dir.resolve("escaped.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", source, "--out", backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();

        try (StoreFactory f = TestStores.cluster(target)) {
            f.store("Note", JsonNode.class).save("held-1", Json.MAPPER.createObjectNode().put("text", "held before the restore"));
            f.store("Note", JsonNode.class).save(id(7), Json.MAPPER.createObjectNode().put("text", "changed"));
            f.store("Other", JsonNode.class).save("held-2", Json.MAPPER.createObjectNode().put("text", "held before the restore"));
        }

        CliProcess.Result r = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--force", "--json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode result = Json.MAPPER.readTree(r.out());
        assertThat(result.get("verified").asBoolean()).isTrue();
        assertThat(result.get("entities")).isEqualTo(Json.MAPPER.readTree("{\"Note\":" + ENTITIES + "}"));

        try (StoreFactory f = TestStores.cluster(target)) {
            Map<String, JsonNode> back = new TreeMap<>();
            for (Versioned<JsonNode> v : f.store("Note", JsonNode.class).getAll()) {
                back.put(v.id(), v.value());
                assertThat(v.version()).as(v.id()).isEqualTo(1);
            }
            assertThat(back).isEqualTo(saved);
        }
    }
}
