package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code verify} refuses what would mislead or change the store: a root that holds no store (a
 * mistyped key path), and key options for a store whose values are in clear.
 */
class VerifyRootTest {

    @TempDir
    Path dir;

    record Note(String text) {
    }

    @Test
    void aRootWithoutAStoreIsAFailureNotZeroEntitiesVerified() {
        String registry = "embedded:" + dir.resolve("data");
        try (StoreFactory f = TestStores.cluster(registry)) {
            f.store(Note.class).save("n1", new Note("kept"));
        }
        CliProcess.Result ok = CliProcess.inProcess("verify", "--store", registry);
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("verified 1 entities");

        CliProcess.Result wrongRoot = CliProcess.inProcess("verify", "--store", registry, "--key-path", "Software/Typo");
        assertThat(wrongRoot.exitCode()).as(wrongRoot.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(wrongRoot.err()).contains("nothing to verify").contains("holds no store").hasLineCount(1);
    }

    @Test
    void keyOptionsForAStoreInClearAreRefused() throws Exception {
        String registry = "embedded:" + dir.resolve("data");
        try (StoreFactory f = TestStores.cluster(registry)) {
            f.store(Note.class).save("n1", new Note("in clear"));
        }
        Path passphrase = java.nio.file.Files.writeString(dir.resolve("pass.txt"), "a passphrase by mistake");
        CliProcess.Result refused = CliProcess.inProcess("verify", "--store", registry, "--passphrase-file", passphrase.toString());
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(refused.err()).contains("no value of").contains("is encrypted; verify it without them");
        CliProcess.Result ok = CliProcess.inProcess("verify", "--store", registry);
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
    }
}
