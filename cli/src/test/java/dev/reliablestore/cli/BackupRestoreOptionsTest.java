package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * backup and restore copy stored values as they are: options that choose how values are sealed are
 * refused, not read and ignored; restore names a file store for what it is. In this process.
 */
class BackupRestoreOptionsTest {

    @TempDir
    Path dir;

    private String seeded() throws Exception {
        String store = "embedded:" + dir.resolve("data");
        try (StoreFactory f = TestStores.cluster(store, "a passphrase")) {
            f.store("Customer", JsonNode.class).save("C-1", Json.MAPPER.createObjectNode().put("name", "Acme"));
        }
        Files.writeString(dir.resolve("passphrase"), "a passphrase");
        CliProcess.Result backup = CliProcess.inProcess("backup", "--store", store, "--out", dir.resolve("b.rsbackup").toString());
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        return store;
    }

    @Test
    void backupRefusesKeyAndCompressionOptions() throws Exception {
        String store = seeded();
        String passphrase = dir.resolve("passphrase").toString();
        for (String[] options : new String[][] {{"--passphrase-file", passphrase}, {"--no-compression"}}) {
            Path out = dir.resolve("refused.rsbackup");
            String[] args = EntityCommandsProcessTest.cat(new String[] {"backup", "--store", store, "--out", out.toString()}, options);
            CliProcess.Result r = CliProcess.inProcess(args);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains("backup copies the stored values as they are").contains(options[0] + " does not apply")
                    .hasLineCount(1).doesNotContain("a passphrase");
            assertThat(out).doesNotExist();
        }
    }

    @Test
    void restoreRefusesKeyAndCompressionOptions() throws Exception {
        seeded();
        String passphrase = dir.resolve("passphrase").toString();
        String in = dir.resolve("b.rsbackup").toString();
        for (String[] options : new String[][] {{"--passphrase-file", passphrase}, {"--previous-passphrase-file", passphrase},
                {"--key-store-type", "PKCS12"}, {"--no-compression"}}) {
            Path target = dir.resolve("copy");
            String[] args = EntityCommandsProcessTest.cat(new String[] {"restore", "--store", "embedded:" + target, "--in", in}, options);
            CliProcess.Result r = CliProcess.inProcess(args);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err()).contains("restore writes the backup's values as they were stored").contains(options[0] + " does not apply")
                    .hasLineCount(1);
            assertThat(target).doesNotExist();
        }
    }

    @Test
    void restoreIntoAFileStoreSaysItNeedsAClusterStore() throws Exception {
        seeded();
        Path target = dir.resolve("files");
        CliProcess.Result r = CliProcess.inProcess("restore", "--store", "file:" + target, "--in", dir.resolve("b.rsbackup").toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("restore needs a cluster-registry store").contains("file:" + target + " is a file store")
                .doesNotContain("--resource-group").hasLineCount(1);
        assertThat(target).doesNotExist();
    }
}
