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
 * A command that writes with keys that are not the store's (a mistyped passphrase) is refused before
 * it writes: otherwise its value would be sealed under a key no application of the store has.
 */
class WrongKeysTest {

    @TempDir
    Path dir;

    record Note(String text) {
    }

    private StoreFactory application(String passphrase, String previous) {
        Map<String, String> options = new HashMap<>(Map.of("clusterName", "embedded:" + dir.resolve("store"), "resourceGroupName", "RG",
                "registryKeyPath", "Notes", "enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", passphrase));
        if (previous != null) {
            options.put("previousPassphrases", previous);
        }
        return Persistence.openFactory("cluster-registry", options);
    }

    @Test
    void putWithAWrongPassphraseIsRefusedAndWritesNothingWhileARotationIsAccepted() throws Exception {
        try (StoreFactory f = application("text:the right passphrase", null)) {
            f.store(Note.class).save("a", new Note("written by the application"));
        }
        String right = Files.writeString(dir.resolve("right.txt"), "the right passphrase").toString();
        String wrong = Files.writeString(dir.resolve("wrong.txt"), "the rihgt passphrase").toString();
        String[] put = {"put", "--store", "embedded:" + dir.resolve("store"), "--resource-group", "RG", "--key-path", "Notes",
                "--type", "Note", "--id", "b", "{\"text\":\"written by the tool\"}", "--passphrase-file"};

        CliProcess.Result refused = CliProcess.inProcess(cat(put, wrong));
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(refused.err()).as(refused.toString()).contains("none of the keys given").contains("nothing was written")
                .doesNotContain("rihgt").doesNotContain("Exception").hasLineCount(1);
        try (StoreFactory f = application("text:the right passphrase", null)) {
            assertThat(f.store(Note.class).get("b")).isEmpty();
        }

        CliProcess.Result rotated = CliProcess.inProcess(cat(put, Files.writeString(dir.resolve("new.txt"), "a new passphrase").toString(),
                "--previous-passphrase-file", right));
        assertThat(rotated.exitCode()).as(rotated.toString()).isZero();
        try (StoreFactory f = application("text:a new passphrase", "text:the right passphrase")) {
            assertThat(f.store(Note.class).getAll()).extracting(v -> v.value().text())
                    .containsExactly("written by the application", "written by the tool");
        }
    }

    private static String[] cat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
