package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.tck.TestCodecs.PlainText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A type written with a codec that is not the default JSON one: the entity commands refuse it in one line, the others work. */
class OtherCodecTest {

    @TempDir
    Path dir;

    @Test
    void entityCommandsRefuseATypeOfAnotherCodecAndSayWhatStillWorks() {
        String uri = "embedded:" + dir.resolve("data");
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(uri)
                .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP).registryKeyPath(StoreSpec.DEFAULT_KEY_PATH)
                .codec(new PlainText()).build())) {
            f.store("Note", String.class).save("n-1", "not JSON");
        }
        for (String[] command : new String[][] {
                {"get", "--type", "Note", "--id", "n-1"},
                {"put", "--type", "Note", "--id", "n-2", "{\"text\":\"x\"}"},
                {"list", "--type", "Note"},
                {"verify"}}) {
            CliProcess.Result r = CliProcess.inProcess(cat(command, "--store", uri));
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).as(r.toString()).hasLineCount(1).contains("type Note").contains("\"plain-text\"")
                    .contains("\"jackson-json\"").contains("status, count, watch, backup and restore work on them");
        }
        CliProcess.Result count = CliProcess.inProcess("count", "--store", uri, "--json");
        assertThat(count.exitCode()).as(count.toString()).isZero();
        assertThat(count.out()).contains("\"Note\":1");
    }

    /**
     * A migration of every type, one of which the tool refuses (another codec), is refused before
     * anything is copied: exit 2 says nothing changed, so no type sorted before it may be copied first.
     */
    @Test
    void aMigrationRefusesATypeOfAnotherCodecBeforeCopyingAnything() {
        String uri = "embedded:" + dir.resolve("data");
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(uri)
                .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP).registryKeyPath(StoreSpec.DEFAULT_KEY_PATH)
                .codec(new PlainText()).build())) {
            f.store("Note", String.class).save("n-1", "not JSON");
        }
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Customer", "--id", "c-1", "{\"v\":1}").exitCode()).isZero();
        String target = "embedded:" + dir.resolve("target");
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", uri, "--to", target);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("type Note");
        CliProcess.Result copied = CliProcess.inProcess("count", "--store", target, "--json");
        assertThat(copied.out()).as(copied.toString()).doesNotContain("\"Customer\":1");
    }

    private static String[] cat(String[] command, String... more) {
        String[] all = java.util.Arrays.copyOf(command, command.length + more.length);
        System.arraycopy(more, 0, all, command.length, more.length);
        return all;
    }
}
