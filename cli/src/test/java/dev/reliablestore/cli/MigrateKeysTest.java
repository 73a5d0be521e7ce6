package dev.reliablestore.cli;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code migrate} takes every key option for either side: a source whose values are partly under an
 * older passphrase (rotated without re-encrypting) needs {@code --from-previous-passphrase-file}.
 */
class MigrateKeysTest {

    @TempDir
    Path dir;

    record Note(String text) {
    }

    private StoreFactory source(String passphrase, String previous) {
        Map<String, String> options = new HashMap<>(Map.of("clusterName", "embedded:" + dir.resolve("source"), "resourceGroupName", "RG",
                "registryKeyPath", "Notes", "enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", passphrase));
        if (previous != null) {
            options.put("previousPassphrases", previous);
        }
        return Persistence.openFactory("cluster-registry", options);
    }

    @Test
    void aSourceWithValuesUnderAnOlderPassphraseMigratesWithItsPreviousPassphrase() throws Exception {
        try (StoreFactory f = source("text:old passphrase", null)) {
            f.store(Note.class).save("a", new Note("written under the old passphrase"));
        }
        try (StoreFactory f = source("text:new passphrase", "text:old passphrase")) {
            f.store(Note.class).save("b", new Note("written under the new one"));
        }
        Path current = Files.writeString(dir.resolve("new.txt"), "new passphrase");
        Path older = Files.writeString(dir.resolve("old.txt"), "old passphrase");
        String[] common = {"migrate", "--from", "embedded:" + dir.resolve("source"), "--from-resource-group", "RG", "--from-key-path", "Notes",
                "--from-passphrase-file", current.toString(), "--to", "file:" + dir.resolve("target"), "--type", "Note"};

        CliProcess.Result without = CliProcess.inProcess(common);
        assertThat(without.exitCode()).as(without.toString()).isEqualTo(ExitCodes.FAILED);

        String[] withPrevious = java.util.Arrays.copyOf(common, common.length + 2);
        withPrevious[common.length] = "--from-previous-passphrase-file";
        withPrevious[common.length + 1] = older.toString();
        CliProcess.Result with = CliProcess.inProcess(withPrevious);
        assertThat(with.exitCode()).as(with.toString()).isZero();
        try (StoreFactory target = Persistence.openFactory("file", Map.of("directory", dir.resolve("target").toString()))) {
            assertThat(target.store(Note.class).get("a")).map(v -> v.value().text()).contains("written under the old passphrase");
            assertThat(target.store(Note.class).count()).isEqualTo(2);
        }
    }

    /** A key option of one side given without its key store is a usage error that names that side's options. */
    @Test
    void aKeyStoreOptionWithoutItsKeyStoreNamesItsSide() throws Exception {
        try (StoreFactory f = source("text:a passphrase", null)) {
            f.store(Note.class).save("a", new Note("x"));
        }
        Path current = Files.writeString(dir.resolve("current.txt"), "a passphrase");
        String[] common = {"migrate", "--from", "embedded:" + dir.resolve("source"), "--from-resource-group", "RG", "--from-key-path", "Notes",
                "--from-passphrase-file", current.toString(), "--to", "embedded:" + dir.resolve("target"), "--type", "Note"};
        for (String[] side : new String[][] {{"--to-key-store-type", "PKCS12", "--to-key-store FILE"},
                {"--to-key-alias", "current", "--to-key-store FILE"}, {"--from-key-store-type", "PKCS12", "--from-key-store FILE"}}) {
            String[] args = java.util.Arrays.copyOf(common, common.length + 2);
            args[common.length] = side[0];
            args[common.length + 1] = side[1];
            CliProcess.Result r = CliProcess.inProcess(args);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).as(r.toString()).contains(side[0] + " belongs to a key store").contains(side[2]);
        }
        assertThat(dir.resolve("target")).as("nothing written").doesNotExist();
    }
}
