package dev.reliablestore.cli;

import dev.reliablestore.cli.InProcessCli.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.reliablestore.cli.InProcessCli.run;
import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    void demoWalksThroughEveryStepAndCanRunTwice() throws java.io.IOException {
        for (int round = 1; round <= 2; round++) {
            Run r = run("demo", "--dir", dir.resolve("store").toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out())
                    .contains("provider \"cluster-registry\", embedded registry in")
                    .containsPattern("pipeline: JSON -> zstd .* -> AES-256-GCM \\(key pp-[0-9a-f]{12}, passphrase from .*demo-passphrase")
                    .contains("CUST-001 -> version 1")
                    .contains("CUST-001 expecting version 1 -> version 2")
                    .contains("rejected, the store holds version 2 (nothing written)")
                    .contains("saved 3 customers atomically")
                    .contains("4 customers, 1 Enterprise")
                    .contains("CUST-001 -> absent")
                    .contains("nothing to delete (reported as false)");
            if (round == 2) {
                assertThat(r.out()).contains("removed 3 entities left by an earlier run");
            }
            // the passphrase is generated once, owner-only, and never printed
            String passphrase = java.nio.file.Files.readString(dir.resolve("store").resolve(DemoStore.PASSPHRASE_FILE)).strip();
            assertThat(passphrase).hasSizeGreaterThanOrEqualTo(40);
            assertThat(r.out()).doesNotContain(passphrase);
            assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve("store").resolve(DemoStore.PASSPHRASE_FILE)))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
    }

    @Test
    void helpListsTheDemo() {
        Run r = run("--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("demo");
    }

    @Test
    void unknownCommandIsAUsageError() {
        Run r = run("frobnicate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("frobnicate");
    }
}
