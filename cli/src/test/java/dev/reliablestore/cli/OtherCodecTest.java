package dev.reliablestore.cli;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.crypto.KeySources;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.tck.TestCodecs.PlainText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

    /**
     * A migration into a target whose type of the same name was written with another codec is
     * refused before any store opens: the target gets nothing, not even the other types' descriptors.
     */
    @Test
    void aMigrationRefusesATargetTypeOfAnotherCodecBeforeOpeningAnything() {
        String uri = "embedded:" + dir.resolve("data");
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Customer", "--id", "c-1", "{\"v\":1}").exitCode()).isZero();
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Note", "--id", "n-1", "{\"v\":1}").exitCode()).isZero();
        String target = "embedded:" + dir.resolve("target");
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder().clusterName(target)
                .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP).registryKeyPath(StoreSpec.DEFAULT_KEY_PATH)
                .codec(new PlainText()).build())) {
            f.store("Note", String.class).save("n-0", "not JSON");
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", uri, "--to", target);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("type Note").contains("\"plain-text\"");
        CliProcess.Result types = CliProcess.inProcess("status", "--store", target, "--json");
        assertThat(types.out()).as(types.toString()).contains("\"Note\"").doesNotContain("\"Customer\"");
    }

    /** Likewise a target type that is encrypted while no target key is given: refused before any store opens. */
    @Test
    void aMigrationRefusesAnEncryptedTargetTypeWithoutKeysBeforeOpeningAnything() {
        String uri = "embedded:" + dir.resolve("data");
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Customer", "--id", "c-1", "{\"v\":1}").exitCode()).isZero();
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Note", "--id", "n-1", "{\"v\":1}").exitCode()).isZero();
        String target = "embedded:" + dir.resolve("target");
        try (StoreFactory f = TestStores.cluster(target, "the target's passphrase")) {
            f.store("Note", com.fasterxml.jackson.databind.JsonNode.class).save("n-0", new com.fasterxml.jackson.databind.node.TextNode("sealed"));
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", uri, "--to", target);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("type Note").contains("is encrypted");
        CliProcess.Result types = CliProcess.inProcess("status", "--store", target, "--json");
        assertThat(types.out()).as(types.toString()).contains("\"Note\"").doesNotContain("\"Customer\"");
    }

    /**
     * A type new in an encrypted target, without target keys: no descriptor marks it encrypted, but the
     * root's KeyCheck says an encrypting application writes there and refuses values in clear. Refused
     * before anything is written, as for a type marked encrypted.
     */
    @Test
    void aMigrationOfATypeNewInAnEncryptedTargetWithoutKeysIsRefusedBeforeWritingInClear() {
        String uri = "embedded:" + dir.resolve("data");
        assertThat(CliProcess.inProcess("put", "--store", uri, "--type", "Customer", "--id", "c-1", "{\"v\":1}").exitCode()).isZero();
        String target = "embedded:" + dir.resolve("target");
        try (StoreFactory f = TestStores.cluster(target, "the target's passphrase")) {
            f.store("Note", com.fasterxml.jackson.databind.JsonNode.class).save("n-0", new com.fasterxml.jackson.databind.node.TextNode("sealed"));
        }
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", uri, "--to", target, "--type", "Customer");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).as(r.toString()).hasLineCount(1).contains("is encrypted").contains("--to-");
        CliProcess.Result types = CliProcess.inProcess("status", "--store", target, "--json");
        assertThat(types.out()).as(types.toString()).contains("\"Note\"").doesNotContain("\"Customer\"");
    }

    /** As a migration's: a put of a type new to an encrypted store, without its keys, is refused rather than written in clear. */
    @Test
    void aPutOfATypeNewInAnEncryptedStoreWithoutKeysIsRefused() {
        String target = "embedded:" + dir.resolve("sealed");
        try (StoreFactory f = TestStores.cluster(target, "the store's passphrase")) {
            f.store("Note", com.fasterxml.jackson.databind.JsonNode.class).save("n-0", new com.fasterxml.jackson.databind.node.TextNode("sealed"));
        }
        CliProcess.Result r = CliProcess.inProcess("put", "--store", target, "--type", "Customer", "--id", "c-1", "{\"v\":1}");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).as(r.toString()).hasLineCount(1).contains("is encrypted");
        CliProcess.Result types = CliProcess.inProcess("status", "--store", target, "--json");
        assertThat(types.out()).as(types.toString()).contains("\"Note\"").doesNotContain("\"Customer\"");
    }

    /** On a file: source, {@code --type} opens only that type: another type, of another codec, is not in the way. */
    @Test
    void aMigrationOfOneTypeOfAFileStoreLeavesATypeOfAnotherCodecAlone() {
        Path files = dir.resolve("files");
        try (StoreFactory f = dev.reliablestore.api.Persistence.openFactory("file", java.util.Map.of("directory", files.toString()),
                new PlainText())) {
            f.store("Note", String.class).save("n-1", "not JSON");
        }
        assertThat(CliProcess.inProcess("put", "--store", "file:" + files, "--type", "Customer", "--id", "c-1", "{\"v\":1}").exitCode())
                .isZero();
        CliProcess.Result r = CliProcess.inProcess("migrate", "--from", "file:" + files, "--to", "embedded:" + dir.resolve("target"),
                "--type", "Customer");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("migrating 1 entities of 1 type(s)").contains("verified Customer: 1 entities");
    }

    record Order(String customer, String notes, int lines) {
    }

    /**
     * A reencrypt of every type, one of which the tool refuses (another codec), is refused before any
     * store opens: exit 2 says nothing changed, and opening the JSON type first had resealed its zstd
     * dictionary under the new key, which nodes still on the old one then skip.
     */
    @Test
    void aReencryptRefusesATypeOfAnotherCodecBeforeResealingAnything() throws Exception {
        String uri = "embedded:" + dir.resolve("data");
        RegistryPath dictionaries = RegistryPath.parse((StoreSpec.DEFAULT_RESOURCE_GROUP + "/" + StoreSpec.DEFAULT_KEY_PATH)
                .replace('\\', '/') + "/Configuration/Dictionaries/Order");
        ClusterPersistenceConfiguration.Builder underOldKey = ClusterPersistenceConfiguration.builder().clusterName(uri)
                .resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP).registryKeyPath(StoreSpec.DEFAULT_KEY_PATH)
                .enableEncryption(true).keySource(KeySources.passphrase(List.of("the old passphrase".toCharArray())));
        try (ClusterRegistry registry = ClusterRegistries.open(uri)) {
            try (StoreFactory f = ClusterPersistenceProvider.open(underOldKey.build(), registry)) {
                EntityStore<Order> orders = f.store(Order.class);
                for (int i = 0; i < 2_000 && !registry.keyExists(dictionaries); i++) {
                    orders.save("o-" + i, new Order("customer " + (i % 17), "deliver to the back door, ring twice; order " + i, i % 9));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> registry.keyExists(dictionaries));
            }
            try (StoreFactory plain = ClusterPersistenceProvider.open(underOldKey.codec(new PlainText()).build(), registry)) {
                plain.store("Tag", String.class).save("t-1", "not JSON");
            }
        }
        byte[] before = dictionary(uri, dictionaries);
        Path newKey = Files.writeString(dir.resolve("new.txt"), "the new passphrase");
        Path oldKey = Files.writeString(dir.resolve("old.txt"), "the old passphrase");
        CliProcess.Result r = CliProcess.inProcess("reencrypt", "--store", uri, "--passphrase-file", newKey.toString(),
                "--previous-passphrase-file", oldKey.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("type Tag").contains("\"plain-text\"");
        assertThat(dictionary(uri, dictionaries)).as("Order's dictionary, still sealed as it was").isEqualTo(before);
    }

    private static byte[] dictionary(String uri, RegistryPath dictionaries) {
        try (ClusterRegistry registry = ClusterRegistries.open(uri)) {
            return registry.getValue(dictionaries, "1").orElseThrow().value().data();
        }
    }

    private static String[] cat(String[] command, String... more) {
        String[] all = java.util.Arrays.copyOf(command, command.length + more.length);
        System.arraycopy(more, 0, all, command.length, more.length);
        return all;
    }
}
