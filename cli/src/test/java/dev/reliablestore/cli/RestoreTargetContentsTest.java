package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What restore deletes without {@code --force}: only what opening an empty store writes (the layout, the key salt,
 * type descriptors). Anything else below the target's root — a store nested in it, whose root lies below this one —
 * is refused, and restore says what it deleted when it goes ahead. In this process, on embedded stores.
 */
class RestoreTargetContentsTest {

    static final int NESTED = 50;

    @TempDir
    Path dir;

    /** The root of a store at key path Software\ReliableStore, the default root's parent. */
    static final RegistryPath OUTER = RegistryPath.of("ReliableStore-RG", "Software", "ReliableStore");

    /** A backup of a store at Software\ReliableStore with one type and no entity. */
    private Path outerBackup() {
        String source = "embedded:" + dir.resolve("source");
        try (StoreFactory f = TestStores.clusterAt(source, "Software\\ReliableStore")) {
            f.store("Outer", JsonNode.class);
        }
        Path backup = dir.resolve("outer.rsbackup");
        CliProcess.Result b = CliProcess.inProcess("backup", "--store", source, "--key-path", "Software\\ReliableStore", "--out",
                backup.toString());
        assertThat(b.exitCode()).as(b.toString()).isZero();
        return backup;
    }

    private static RegistrySnapshot snapshot(String uri, RegistryPath root) {
        try (ClusterRegistry r = ClusterRegistries.open(uri)) {
            return RegistrySnapshot.take(r, root);
        }
    }

    @Test
    void aStoreNestedInTheTargetRootIsRefusedWithoutForceAndItsDeletionReportedWithIt() throws Exception {
        Path backup = outerBackup();
        String target = "embedded:" + dir.resolve("target");
        try (StoreFactory f = TestStores.cluster(target)) { // the default root, ...\Data, below the backup's
            Map<String, JsonNode> notes = new LinkedHashMap<>();
            for (int i = 0; i < NESTED; i++) {
                notes.put("N-" + i, Json.MAPPER.createObjectNode().put("text", "note " + i));
            }
            f.store("Note", JsonNode.class).saveBatch(notes);
        }
        RegistrySnapshot before = snapshot(target, OUTER);
        long nestedValues = before.valueCount();

        CliProcess.Result refused = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString());
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(refused.err()).hasLineCount(1)
                .contains(nestedValues + " values below ReliableStore-RG/Software/ReliableStore/Data")
                .contains("another store").contains("--force").contains("nothing was changed");
        assertThat(refused.out()).isEmpty();
        assertThat(snapshot(target, OUTER).contentDigest()).as("the target unchanged").isEqualTo(before.contentDigest());
        try (StoreFactory f = TestStores.cluster(target)) {
            assertThat(f.store("Note", JsonNode.class).count()).isEqualTo(NESTED);
        }

        CliProcess.Result forced = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--force");
        assertThat(forced.exitCode()).as(forced.toString()).isZero();
        assertThat(forced.out()).contains("deleted " + nestedValues + " values in " + (before.keys().size() - 1) + " keys")
                .contains("verified: the store's contents equal the backup");
        assertThat(snapshot(target, TestStores.root()).isEmpty()).as("the nested store is gone").isTrue();
    }

    /** What an application's first open wrote (layout, key salt, a type's descriptor) is no data: replaced without --force. */
    @Test
    void aTargetHoldingOnlyWhatOpeningAnEmptyStoreWritesIsReplacedWithoutForce() throws Exception {
        Path backup = outerBackup();
        String target = "embedded:" + dir.resolve("opened");
        try (StoreFactory f = TestStores.clusterAt(target, "Software\\ReliableStore", "a passphrase")) {
            f.store("Other", JsonNode.class).save("O-1", Json.MAPPER.createObjectNode().put("x", 1));
            f.store("Other", JsonNode.class).delete("O-1");
        }
        long held = snapshot(target, OUTER).valueCount();
        CliProcess.Result r = CliProcess.inProcess("restore", "--store", target, "--in", backup.toString(), "--json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode result = Json.MAPPER.readTree(r.out());
        assertThat(result.get("verified").asBoolean()).isTrue();
        assertThat(result.get("deleted").get("values").asLong()).isEqualTo(held);
    }
}
