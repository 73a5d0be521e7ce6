package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.WriteBatch;
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
 * {@code restore} into ZooKeeper: of entities whose ids ZooKeeper escapes in its znode paths, and into a store an
 * application has open.
 */
class RestoreZooKeeperTest {

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

    /**
     * Ids ZooKeeper escapes in its znode paths (private-use characters: five bytes each there, two in a batch's
     * encoded size), so that a batch within the registry's declared limits needs a request larger than the servers
     * take: the batch goes in halves, and the store is replaced whole.
     */
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

    private static String digest(String store) {
        try (ClusterRegistry r = ClusterRegistries.open(store)) {
            return RegistrySnapshot.take(r, TestStores.root()).contentDigest();
        }
    }

    /**
     * The restore rewrites the key salt, and an application with the store open would go on deriving its keys from
     * the old one: refused, naming it; {@code --ignore-live-members} lets an operator who knows go ahead.
     */
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

    /**
     * An application that connects between the check for other registries and the restore's mark read no mark, and
     * keeps the old key salt: the check is made again once the mark is written, and the restore takes its mark away
     * and refuses, changing nothing.
     */
    @Test
    void anApplicationThatConnectsWhileTheRestoreMarksTheStoreStopsIt() throws Exception {
        String source = uri("joining-source");
        try (StoreFactory f = TestStores.cluster(source)) {
            f.store("Note", JsonNode.class).save("N-1", Json.MAPPER.createObjectNode().put("text", "note"));
        }
        Path backup = dir.resolve("joining.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", source, "--out", backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();

        String target = uri("joining-target");
        try (StoreFactory f = TestStores.cluster(target)) {
            f.store("Note", JsonNode.class).save("mine", Json.MAPPER.createObjectNode().put("text", "held before the restore"));
        }
        String before = digest(target);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        RestoreCommand restore = cli.getSubcommands().get("restore").getCommand();
        java.util.List<ClusterRegistry> joined = new java.util.ArrayList<>();
        restore.afterBatch = done -> {
            if (done == 0) { // checked and marked: an application's registry connects (it opened the store just before the mark)
                joined.add(ClusterRegistries.open(target + "&nodeName=late-app"));
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                        .until(() -> RestoreCommand.otherLiveMembers(restore.targetRegistry).contains("late-app"));
            }
        };
        try {
            int code = cli.execute("restore", "--store", target, "--in", backup.toString(), "--force");

            assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.FAILED);
            assertThat(err.toString()).hasLineCount(1).contains("late-app").contains("while the restore was starting")
                    .contains("--ignore-live-members").contains("nothing was changed");
            assertThat(joined).hasSize(1);
        } finally {
            joined.forEach(ClusterRegistry::close);
        }
        assertThat(digest(target)).as("the target unchanged, its mark gone").isEqualTo(before);
    }

    /**
     * A second restore (run with --force while the first one writes) marks the root as its own: the first one, done
     * and verified, must leave that mark where it is, or applications would open a root the second one is still
     * rewriting.
     */
    @Test
    void aRestoreThatFindsAnotherRestoresMarkLeavesIt() throws Exception {
        String source = uri("marked-source");
        try (StoreFactory f = TestStores.cluster(source)) {
            f.store("Note", JsonNode.class).save("N-1", Json.MAPPER.createObjectNode().put("text", "note"));
        }
        Path backup = dir.resolve("marked.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", source, "--out", backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();

        String target = uri("marked-target");
        RestoreMarker other = RestoreMarker.beginning("/elsewhere/other.rsbackup", "zookeeper://elsewhere/other", 42);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        RestoreCommand restore = cli.getSubcommands().get("restore").getCommand();
        restore.afterBatch = done -> {
            if (done == 1) { // the first restore's first batch is in; the second one starts
                try (ClusterRegistry r = ClusterRegistries.open(target)) {
                    r.commit(WriteBatch.builder().setValue(TestStores.root().child(StorageLayout.CONFIGURATION),
                            StorageLayout.RESTORE_IN_PROGRESS_VALUE, other.toValue()).build());
                }
            }
        };
        int code = cli.execute("restore", "--store", target, "--in", backup.toString(), "--force");

        assertThat(code).as(out + "\n" + err).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(err.toString()).contains("another restore marked it").contains("other.rsbackup");
        try (ClusterRegistry r = ClusterRegistries.open(target)) {
            assertThat(ClusterStoreAdmin.of(r, TestStores.root()).unfinishedRestore()).as("the second restore's mark").contains(other);
        }
    }
}
