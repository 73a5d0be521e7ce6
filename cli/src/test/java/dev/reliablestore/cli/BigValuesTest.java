package dev.reliablestore.cli;

import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The tool carries what a store holds: an application that raised {@code maxValueSizeKB} may have
 * saved values far above the default 64 KiB, and {@code reencrypt} and {@code migrate} must rewrite
 * and copy them (the limit is the registry's, not the default a session would otherwise take).
 */
class BigValuesTest {

    @TempDir
    Path dir;

    record Blob(String text) {
    }

    private StoreFactory store(String name, String passphrase, String previous) {
        Map<String, String> options = new HashMap<>(Map.of("clusterName", "embedded:" + dir.resolve(name), "resourceGroupName", "RG",
                "registryKeyPath", "Blobs", "enableEncryption", "true", "keyManagementService", "Passphrase", "passphrase", passphrase,
                "maxValueSizeKB", "512"));
        if (previous != null) {
            options.put("previousPassphrases", previous);
        }
        return Persistence.openFactory("cluster-registry", options);
    }

    @Test
    void reencryptAndMigrateCarryValuesAboveTheDefaultLimit() throws Exception {
        StringBuilder text = new StringBuilder();
        Random random = new Random(7);
        while (text.length() < 300_000) {
            text.append(Long.toString(random.nextLong(), 36)); // hardly compressible: the envelope stays near 200 KB
        }
        Blob big = new Blob(text.toString());
        try (StoreFactory f = store("source", "text:old passphrase", null)) {
            f.store(Blob.class).save("big", big);
        }

        String oldFile = Files.writeString(dir.resolve("old.txt"), "old passphrase").toString();
        String newFile = Files.writeString(dir.resolve("new.txt"), "new passphrase").toString();
        String targetFile = Files.writeString(dir.resolve("target.txt"), "target passphrase").toString();
        CliProcess.Result re = CliProcess.inProcess("reencrypt", "--store", "embedded:" + dir.resolve("source"), "--resource-group", "RG",
                "--key-path", "Blobs", "--passphrase-file", newFile, "--previous-passphrase-file", oldFile);
        assertThat(re.exitCode()).as(re.toString()).isZero();
        try (StoreFactory f = store("source", "text:new passphrase", null)) {
            assertThat(f.store(Blob.class).get("big")).map(v -> v.value()).contains(big);
        }

        CliProcess.Result migrated = CliProcess.inProcess("migrate", "--from", "embedded:" + dir.resolve("source"), "--from-resource-group", "RG",
                "--from-key-path", "Blobs", "--from-passphrase-file", newFile, "--to", "embedded:" + dir.resolve("target"),
                "--to-resource-group", "RG", "--to-key-path", "Blobs", "--to-passphrase-file", targetFile);
        assertThat(migrated.exitCode()).as(migrated.toString()).isZero();
        try (StoreFactory f = store("target", "text:target passphrase", null)) {
            assertThat(f.store(Blob.class).get("big")).map(v -> v.value()).contains(big);
        }
    }

    /**
     * A value stored in clear just under the registry's limit cannot be sealed (the envelope grows):
     * the values before and after it are rewritten, and the command says so with exit 1, not "bad
     * usage, nothing changed".
     */
    @Test
    void aValueThatCannotBeSealedIsPassedOverAndTheCommandExitsOne() throws Exception {
        Map<String, String> clear = Map.of("clusterName", "embedded:" + dir.resolve("clear"), "resourceGroupName", "RG",
                "registryKeyPath", "Blobs", "enableCompression", "false", "maxValueSizeKB", "1024");
        try (StoreFactory f = Persistence.openFactory("cluster-registry", clear)) {
            f.store(Blob.class).save("a", new Blob("small"));
            int limit = 1024 * 1024;
            StringBuilder random = new StringBuilder();
            Random r = new Random(11);
            while (random.length() < limit) {
                random.append(Long.toString(r.nextLong(), 36));
            }
            long overhead = catchThrowableOfType(EntityTooLargeException.class,
                    () -> f.store(Blob.class).save("b", new Blob(random.substring(0, limit)))).size() - limit;
            f.store(Blob.class).save("b", new Blob(random.substring(0, (int) (limit - overhead - 4)))); // 4 bytes under the limit in clear
            f.store(Blob.class).save("c", new Blob("after it"));
        }
        String key = Files.writeString(dir.resolve("key.txt"), "a passphrase").toString();
        CliProcess.Result plain = CliProcess.inProcess("reencrypt", "--store", "embedded:" + dir.resolve("clear"), "--resource-group", "RG",
                "--key-path", "Blobs", "--no-compression", "--passphrase-file", key);
        assertThat(plain.exitCode()).as("values in clear are left without --encrypt-values-in-clear").isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(plain.out()).contains("Blob: rewrote 0 of 3 values").contains("3 of them in clear (--encrypt-values-in-clear");
        CliProcess.Result re = CliProcess.inProcess("reencrypt", "--store", "embedded:" + dir.resolve("clear"), "--resource-group", "RG",
                "--key-path", "Blobs", "--no-compression", "--passphrase-file", key, "--encrypt-values-in-clear");
        assertThat(re.exitCode()).as(re.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(re.err()).contains("reencrypt did not finish [Blob] (the values it rewrote stay under the active key)").contains("Blob/b");
        CliProcess.Result again = CliProcess.inProcess("reencrypt", "--store", "embedded:" + dir.resolve("clear"), "--resource-group", "RG",
                "--key-path", "Blobs", "--no-compression", "--passphrase-file", key, "--encrypt-values-in-clear", "--json");
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(re.out()).contains("Blob: did not finish").doesNotContain("every value is under the active key");
        assertThat(again.out()).contains("\"unfinished\":[\"Blob\"]");
        try (StoreFactory f = Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir.resolve("clear"),
                "resourceGroupName", "RG", "registryKeyPath", "Blobs", "enableCompression", "false", "enableEncryption", "true",
                "keyManagementService", "Passphrase", "passphrase", "text:a passphrase"))) {
            dev.reliablestore.cluster.ClusterPersistenceStore<?> s = f.store(Blob.class).unwrap(dev.reliablestore.cluster.ClusterPersistenceStore.class);
            assertThat(s.keyUsage()).as("a and c rewritten under the key, b still in clear").hasSize(2).containsEntry("", 1L)
                    .containsValue(2L);
        }
    }

    /**
     * A migration whose first entity (the first of its first batch) is larger than the target takes fails
     * with exit 1, as one refused later in a batch does: the target's types were created, so "bad usage,
     * nothing was changed" would be false.
     */
    @Test
    void aMigrationRefusedAtItsFirstEntityExitsOne() {
        StringBuilder text = new StringBuilder();
        Random random = new Random(13);
        while (text.length() < 1_800_000) {
            text.append(Long.toString(random.nextLong(), 36)); // compressed, still well above the registry's 1 MiB
        }
        try (StoreFactory files = Persistence.openFactory("file", Map.of("directory", dir.resolve("files").toString()))) {
            files.store(Blob.class).save("huge", new Blob(text.toString()));
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", "file:" + dir.resolve("files"), "--to",
                "embedded:" + dir.resolve("target"));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(r.err()).as(r.toString()).hasLineCount(1).contains("migrate stopped at Blob").contains("Blob/huge")
                .contains("run the same command again");
    }

    /**
     * A value under an older key that cannot be rewritten (its key was not given) fails the type, but the values in
     * clear are encrypted all the same: otherwise every run would stop before them.
     */
    @Test
    void valuesInClearAreEncryptedEvenWhenAnOlderKeysValueCannotBeRewritten() throws Exception {
        String[] root = {"--store", "embedded:" + dir.resolve("mixed"), "--resource-group", "RG", "--key-path", "Blobs"};
        String oldKey = Files.writeString(dir.resolve("old.txt"), "old passphrase").toString();
        String newKey = Files.writeString(dir.resolve("new.txt"), "new passphrase").toString();
        assertThat(CliProcess.inProcess(cat(new String[] {"put", "--type", "Blob", "--id", "clear", "{\"text\":\"c\"}"}, root))
                .exitCode()).isZero();
        assertThat(CliProcess.inProcess(cat(new String[] {"put", "--type", "Blob", "--id", "sealed", "{\"text\":\"s\"}",
                "--passphrase-file", oldKey}, root)).exitCode()).isZero();
        // a rotation: the new passphrase opened once beside the old one, so the store knows it and it opens alone
        store("mixed", "text:new passphrase", "text:old passphrase").close();
        CliProcess.Result re = CliProcess.inProcess(cat(new String[] {"reencrypt", "--passphrase-file", newKey, "--encrypt-values-in-clear"},
                root));
        assertThat(re.exitCode()).as(re.toString()).isEqualTo(ExitCodes.FAILED);
        try (StoreFactory f = store("mixed", "text:new passphrase", null)) {
            dev.reliablestore.cluster.ClusterPersistenceStore<?> s = f.store(Blob.class).unwrap(dev.reliablestore.cluster.ClusterPersistenceStore.class);
            assertThat(s.keyUsage()).as("the value in clear encrypted, the other still under the old key").doesNotContainKey("")
                    .hasSize(2).containsValues(1L, 1L);
        }
    }

    private static String[] cat(String[] command, String[] more) {
        String[] all = java.util.Arrays.copyOf(command, command.length + more.length);
        System.arraycopy(more, 0, all, command.length, more.length);
        return all;
    }
}
