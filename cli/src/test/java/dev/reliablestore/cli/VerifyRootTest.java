package dev.reliablestore.cli;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code verify} and {@code reencrypt} refuse what would mislead or change the store: a root that
 * holds no store (a mistyped or forgotten key path), and key options for a store whose values are in clear.
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

    /**
     * A reencrypt run on the wrong root must not report every value as under the new key (the
     * operator would then retire the old one) nor create a store with a fresh salt there.
     */
    @Test
    void reencryptOnARootWithoutAStoreFailsAndCreatesNothingThere() throws Exception {
        String registry = "embedded:" + dir.resolve("data");
        try (StoreFactory f = TestStores.clusterAt(registry, "Software\\Orders", "the old passphrase")) {
            f.store(Note.class).save("n1", new Note("sealed with the old key"));
        }
        Path newKey = Files.writeString(dir.resolve("new.txt"), "the new passphrase");
        Path oldKey = Files.writeString(dir.resolve("old.txt"), "the old passphrase");
        List<String> keys = List.of("--passphrase-file", newKey.toString(), "--previous-passphrase-file", oldKey.toString());

        // --key-path forgotten (the default root), then mistyped
        for (List<String> root : List.of(List.<String>of(), List.of("--key-path", "Software\\Ordres"))) {
            List<String> args = new ArrayList<>(List.of("reencrypt", "--store", registry));
            args.addAll(root);
            args.addAll(keys);
            CliProcess.Result wrongRoot = CliProcess.inProcess(args.toArray(String[]::new));
            assertThat(wrongRoot.exitCode()).as(wrongRoot.toString()).isEqualTo(ExitCodes.FAILED);
            assertThat(wrongRoot.err()).contains("nothing to re-encrypt").contains("holds no store").hasLineCount(1);
            assertThat(wrongRoot.out()).doesNotContain("every value is under the active key");
        }
        try (ClusterRegistry r = ClusterRegistries.open(registry)) {
            assertThat(r.keyExists(RegistryPath.of(StoreSpec.DEFAULT_RESOURCE_GROUP, "Software", "ReliableStore"))).isFalse();
            assertThat(r.keyExists(RegistryPath.of(StoreSpec.DEFAULT_RESOURCE_GROUP, "Software", "Ordres"))).isFalse();
        }

        List<String> args = new ArrayList<>(List.of("reencrypt", "--store", registry, "--key-path", "Software\\Orders"));
        args.addAll(keys);
        CliProcess.Result ok = CliProcess.inProcess(args.toArray(String[]::new));
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("rewrote 1 of 1 values").contains("every value is under the active key");
    }
}
