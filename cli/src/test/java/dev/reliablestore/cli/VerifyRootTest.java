package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code verify} of a root that holds no store (a mistyped key path) fails instead of verifying nothing. */
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
}
