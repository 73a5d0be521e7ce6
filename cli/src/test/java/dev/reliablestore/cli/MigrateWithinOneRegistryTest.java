package dev.reliablestore.cli;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code migrate} between two roots of one registry (moving a store to another key path): an embedded
 * registry's directory is held by one connection at a time, so both sides share the tool's connection.
 */
class MigrateWithinOneRegistryTest {

    @TempDir
    Path dir;

    record Note(String text) {
    }

    private StoreFactory application(String keyPath) {
        return Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir.resolve("registry"),
                "resourceGroupName", "RG", "registryKeyPath", keyPath));
    }

    @Test
    void aStoreMovesToAnotherKeyPathOfTheSameEmbeddedRegistry() {
        try (StoreFactory f = application("Old")) {
            f.store(Note.class).save("a", new Note("first"));
            f.store(Note.class).save("b", new Note("second"));
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", "embedded:" + dir.resolve("registry"), "--from-resource-group", "RG",
                "--from-key-path", "Old", "--to", "embedded:" + dir.resolve("x/../registry"), "--to-resource-group", "RG",
                "--to-key-path", "New");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("verified");
        try (StoreFactory f = application("New")) {
            assertThat(f.store(Note.class).getAll()).extracting(v -> v.value().text()).containsExactly("first", "second");
        }
        try (StoreFactory f = application("Old")) {
            assertThat(f.store(Note.class).count()).as("a migration copies").isEqualTo(2);
        }
    }

    @Test
    void aStoreIsNotMigratedOntoItself() {
        try (StoreFactory f = application("Same")) {
            f.store(Note.class).save("a", new Note("first"));
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", "embedded:" + dir.resolve("registry"), "--from-resource-group", "RG",
                "--from-key-path", "Same", "--to", "embedded:" + dir.resolve("registry"), "--to-resource-group", "RG",
                "--to-key-path", "Same");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).as(r.toString()).contains("the same store").hasLineCount(1);
        CliProcess.Result files = CliProcess.inProcess("migrate", "--from", "file:" + dir.resolve("files"), "--to",
                "file:" + dir.resolve("files/."));
        assertThat(files.exitCode()).as(files.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(files.err()).as(files.toString()).contains("the same store");
    }
}
