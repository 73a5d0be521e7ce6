package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.reliablestore.cli.EntityCommandsProcessTest.cat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * status, health, watch, backup, restore, verify and reencrypt on embedded stores: in this JVM where the point is what a
 * command prints, returns and writes (passphrases from files: this JVM's environment cannot be set), as separate processes
 * where it is the process (a signal, the tool's heap, its exit status).
 */
class OperationsProcessTest {

    static final String PASS = "first passphrase";
    static final String NEW_PASS = "second passphrase";

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeEach
    void start() {
        cli = new CliProcess(dir);
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    private String uri(String name) {
        return "embedded:" + dir.resolve(name);
    }

    /** A file holding {@code passphrase}, for --passphrase-file and the like. */
    private String file(String passphrase) throws java.io.IOException {
        Path f = dir.resolve(passphrase.replace(' ', '-') + ".txt");
        if (!Files.exists(f)) {
            Files.writeString(f, passphrase);
        }
        return f.toString();
    }

    /** Customers and orders through the provider, encrypted with {@code passphrase}. */
    private void seed(String name, int customers, String... passphrases) {
        try (StoreFactory f = TestStores.cluster(uri(name), passphrases)) {
            EntityStore<JsonNode> c = f.store("Customer", JsonNode.class);
            Map<String, JsonNode> batch = new LinkedHashMap<>();
            for (int i = 0; i < customers; i++) {
                ObjectNode n = Json.MAPPER.createObjectNode().put("name", "Customer " + i).put("secret", "plaintext-marker-" + i);
                batch.put(String.format("C-%04d", i), n);
            }
            c.saveBatch(batch);
            f.store("Order", JsonNode.class).save("O-1", Json.MAPPER.createObjectNode().put("total", 99));
        }
    }

    /**
     * Reading commands with a new key ring (a spot check before a rotation) write nothing: opening a store for
     * writing reseals its dictionaries under the active key, and nodes with only the old key could then no longer
     * read the values compressed with them.
     */
    @Test
    void readingCommandsWithANewKeyRingWriteNothing() throws Exception {
        RegistryPath dictionaries = TestStores.root().child("Configuration").child("Dictionaries").child("Customer");
        int saved = 0;
        for (int round = 0; round < 20 && !hasValues(uri("dict"), dictionaries); round++) {
            try (StoreFactory f = TestStores.cluster(uri("dict"), PASS)) {
                EntityStore<JsonNode> c = f.store("Customer", JsonNode.class);
                for (int i = 0; i < 300; i++, saved++) {
                    c.save(String.format("C-%05d", saved), Json.MAPPER.createObjectNode().put("name", "Customer number " + saved)
                            .put("branch", "account opened at branch " + (saved % 7)).put("tier", saved % 2 == 0 ? "GOLD" : "SILVER"));
                }
            }
        }
        assertThat(hasValues(uri("dict"), dictionaries)).as("a dictionary was trained").isTrue();
        String before = digest(uri("dict"));
        String[] newRing = {"--passphrase-file", file(NEW_PASS), "--previous-passphrase-file", file(PASS)};
        assertThat(CliProcess.inProcess(cat(new String[] {"get", "--store", uri("dict"), "--type", "Customer", "--id", "C-00001"}, newRing))
                .exitCode()).isZero();
        assertThat(CliProcess.inProcess(cat(new String[] {"list", "--store", uri("dict"), "--type", "Customer", "--limit", "3"}, newRing))
                .exitCode()).isZero();
        assertThat(CliProcess.inProcess(cat(new String[] {"count", "--store", uri("dict"), "--type", "Customer"}, newRing)).exitCode()).isZero();
        CliProcess.Result migrated = CliProcess.inProcess("migrate", "--from", uri("dict"), "--from-passphrase-file", file(NEW_PASS),
                "--from-previous-passphrase-file", file(PASS), "--to", "file:" + dir.resolve("copy"));
        assertThat(migrated.exitCode()).as(migrated.toString()).isZero();
        assertThat(digest(uri("dict"))).as("nothing written").isEqualTo(before);
        // and a source type encrypted while no --from key is given is refused before anything is copied or created
        CliProcess.Result noKey = CliProcess.inProcess("migrate", "--from", uri("dict"), "--to", "file:" + dir.resolve("nokey"));
        assertThat(noKey.exitCode()).as(noKey.toString()).isEqualTo(ExitCodes.USAGE);
        assertThat(noKey.err()).contains("is encrypted");
        assertThat(dir.resolve("nokey").resolve("Customer")).doesNotExist();
        CliProcess.Result oldKeyOnly = CliProcess.inProcess("verify", "--store", uri("dict"), "--passphrase-file", file(PASS));
        assertThat(oldKeyOnly.exitCode()).as(oldKeyOnly.toString()).isZero();
    }

    private static boolean hasValues(String uri, RegistryPath key) {
        try (ClusterRegistry r = ClusterRegistries.open(uri)) {
            return r.keyExists(key) && !r.values(key).isEmpty();
        }
    }

    private static String digest(String uri) {
        try (ClusterRegistry r = ClusterRegistries.open(uri)) {
            return dev.reliablestore.cluster.backup.RegistrySnapshot.take(r, TestStores.root()).contentDigest();
        }
    }

    @Test
    void statusAndHealth() throws Exception {
        seed("data", 5);
        CliProcess.Result status = CliProcess.inProcess("status", "--store", uri("data"));
        assertThat(status.exitCode()).as(status.toString()).isZero();
        assertThat(status.out()).contains("backend:   embedded").contains("layout:    version 1").contains("nodes:     1 of 1 up")
                .contains("primary").contains("entities:  6 in 2 type(s)").contains("  Customer\t5").contains("  Order\t1");
        JsonNode json = Json.MAPPER.readTree(CliProcess.inProcess("status", "--store", uri("data"), "--json").out());
        assertThat(json.get("backend").asText()).isEqualTo("embedded");
        assertThat(json.get("layoutVersion").asInt()).isEqualTo(1);
        assertThat(json.get("types")).isEqualTo(Json.MAPPER.readTree("{\"Customer\":5,\"Order\":1}"));
        assertThat(json.get("nodes").get(0).get("state").asText()).isEqualTo("UP");
        assertThat(json.get("primary").asText()).isEqualTo(json.get("nodes").get(0).get("name").asText());

        CliProcess.Result healthy = CliProcess.inProcess("health", "--store", uri("data"));
        assertThat(healthy.exitCode()).as(healthy.toString()).isZero();
        assertThat(healthy.out()).startsWith("healthy: ");

        try (ClusterRegistry r = ClusterRegistries.open(uri("data"))) {
            r.addHealthFault(new HealthFault("disk-nearly-full", 1, 112, "volume D: is 97% full", "ops", 0));
        }
        CliProcess.Result sick = CliProcess.inProcess("health", "--store", uri("data"), "--json");
        assertThat(sick.exitCode()).as(sick.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        JsonNode h = Json.MAPPER.readTree(sick.out());
        assertThat(h.get("healthy").asBoolean()).isFalse();
        assertThat(h.get("faults").get(0).get("id").asText()).isEqualTo("disk-nearly-full");
        assertThat(h.get("problems").get(0).asText()).contains("volume D: is 97% full");
    }

    @Test
    void watchStopsOnTimeoutAndOnSigterm() throws Exception {
        seed("data", 1);
        CliProcess.Result timed = CliProcess.inProcess("watch", "--store", uri("data"), "--timeout", "500ms");
        assertThat(timed.exitCode()).as(timed.toString()).isZero();
        assertThat(timed.err()).contains("watching ").contains("stopped after 0 event(s)");

        CliProcess.Running running = cli.start("watch", "--store", uri("data"));
        await().atMost(java.time.Duration.ofSeconds(30)).until(() -> running.err().contains("watching "));
        running.process.toHandle().destroy(); // SIGTERM (Process.destroy() would also close our ends of its pipes)
        CliProcess.Result stopped = running.await(30);
        assertThat(stopped.exitCode()).isEqualTo(143);
        assertThat(stopped.err()).contains("stopped after 0 event(s)");
    }

    @Test
    void backupAndRestoreKeepValuesEncryptedAndRefuseBadFiles() throws Exception {
        seed("data", 50, PASS);
        String backupFile = dir.resolve("store.rsbackup").toString();
        CliProcess.Result backup = CliProcess.inProcess("backup", "--store", uri("data"), "--out", backupFile, "--json");
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        JsonNode b = Json.MAPPER.readTree(backup.out());
        assertThat(b.get("entities")).isEqualTo(Json.MAPPER.readTree("{\"Customer\":50,\"Order\":1}"));
        byte[] file = Files.readAllBytes(dir.resolve("store.rsbackup"));
        assertThat(new String(file, 0, 8, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("RSBACKUP");
        // encrypted values stay encrypted: the decompressed body never shows the plaintext
        dev.reliablestore.cluster.backup.BackupFile.Contents contents = dev.reliablestore.cluster.backup.BackupFile.read(dir.resolve("store.rsbackup"));
        contents.snapshot().keys().values().forEach(values -> values.values().forEach(v ->
                assertThat(new String(v.unsafeData(), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("plaintext-marker")));
        assertThat(CliProcess.inProcess("backup", "--store", uri("data"), "--out", backupFile).exitCode()).isEqualTo(ExitCodes.USAGE);

        CliProcess.Result restore = CliProcess.inProcess("restore", "--store", uri("copy"), "--in", backupFile);
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("51 entities in 2 type(s)").contains("verified: the store's contents equal the backup");
        CliProcess.Result get = CliProcess.inProcess("get", "--store", uri("copy"), "--passphrase-file", file(PASS), "--type", "Customer",
                "--id", "C-0007", "--json");
        assertThat(get.exitCode()).as(get.toString()).isZero();
        assertThat(Json.MAPPER.readTree(get.out()).get("value").get("secret").asText()).isEqualTo("plaintext-marker-7");
        CliProcess.Result verify = CliProcess.inProcess("verify", "--store", uri("copy"), "--passphrase-file", file(PASS));
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("verified 51 entities in 2 type(s)").contains("all decode");

        // a non-empty target is refused without --force, replaced with it
        CliProcess.inProcess("put", "--store", uri("copy"), "--passphrase-file", file(PASS), "--type", "Customer", "--id", "C-0007",
                "{\"changed\":true}");
        CliProcess.Result refused = CliProcess.inProcess("restore", "--store", uri("copy"), "--in", backupFile);
        assertThat(refused.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(refused.err()).contains("already holds 51 entities").contains("--force").hasLineCount(1);
        CliProcess.Result forced = CliProcess.inProcess("restore", "--store", uri("copy"), "--in", backupFile, "--force", "--json");
        assertThat(forced.exitCode()).as(forced.toString()).isZero();
        assertThat(Json.MAPPER.readTree(forced.out()).get("verified").asBoolean()).isTrue();
        CliProcess.Result back = CliProcess.inProcess("get", "--store", uri("copy"), "--passphrase-file", file(PASS), "--type", "Customer",
                "--id", "C-0007", "--json");
        assertThat(Json.MAPPER.readTree(back.out()).get("version").asLong()).isEqualTo(1);

        // corrupt, truncated, foreign and missing files: one line, exit 1, the target not even created
        byte[] flipped = file.clone();
        flipped[flipped.length / 2] ^= 0x10;
        Files.write(dir.resolve("flipped.rsbackup"), flipped);
        Files.write(dir.resolve("short.rsbackup"), java.util.Arrays.copyOf(file, file.length - 100));
        Files.writeString(dir.resolve("foreign.rsbackup"), "PK this is some zip file, not a backup at all");
        Files.write(dir.resolve("bomb.rsbackup"), inflatingBomb(400)); // 400 KB that inflate to 400 MiB, past the tool's 256 MiB heap
        for (String[] bad : new String[][] {{"flipped.rsbackup", "is corrupt: its SHA-256 checksum does not match"},
                {"short.rsbackup", "is corrupt"}, {"foreign.rsbackup", "is not a ReliableStore backup"},
                {"missing.rsbackup", "cannot read backup"}, {"bomb.rsbackup", "holds more than this JVM can load"}}) {
            // the bomb in a separate process: what it runs out of is the tool's heap, not this JVM's
            CliProcess.Result r = bad[0].equals("bomb.rsbackup") ? cli.run("restore", "--store", "embedded:./fresh", "--in", bad[0])
                    : CliProcess.inProcess("restore", "--store", uri("fresh"), "--in", dir.resolve(bad[0]).toString());
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(ExitCodes.FAILED);
            assertThat(r.err()).contains(bad[1]).hasLineCount(1);
            assertThat(dir.resolve("fresh")).doesNotExist();
        }
        // nor does a corrupt backup touch an existing store, even with --force
        CliProcess.Result forcedCorrupt = CliProcess.inProcess("restore", "--store", uri("copy"), "--in", dir.resolve("flipped.rsbackup").toString(),
                "--force");
        assertThat(forcedCorrupt.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(CliProcess.inProcess("count", "--store", uri("copy"), "--json").out()).contains("{\"Customer\":50,\"Order\":1}");
    }

    /**
     * A well-formed backup (its checksum is no secret) of {@code values} values of 1 MiB of zeros each:
     * a few hundred bytes each on disk.
     */
    private static byte[] inflatingBomb(int values) throws Exception {
        java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        java.security.DigestOutputStream summed = new java.security.DigestOutputStream(file, sha);
        summed.write("RSBACKUP".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        summed.write(new byte[] {0, 1, 1}); // format 1, deflate
        java.util.zip.DeflaterOutputStream zip = new java.util.zip.DeflaterOutputStream(summed);
        java.io.DataOutputStream out = new java.io.DataOutputStream(zip);
        byte[] metadata = ("{\"format\":1,\"source\":\"embedded:x\",\"root\":\"" + TestStores.root() + "\",\"sequence\":1}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(metadata.length);
        out.write(metadata);
        out.writeByte(1);
        out.writeInt(0); // the root itself
        byte[] zeros = new byte[1 << 20];
        for (int i = 0; i < values; i++) {
            byte[] name = ("v" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeByte(2);
            out.writeInt(name.length);
            out.write(name);
            out.writeInt(3); // REG_BINARY
            out.writeInt(zeros.length);
            out.write(zeros);
        }
        out.writeByte(0);
        out.writeInt(1);
        out.writeLong(values);
        out.flush();
        zip.finish();
        summed.flush();
        file.write(sha.digest());
        return file.toByteArray();
    }

    @Test
    void verifyReportsCorruptAndUndecryptableEntitiesById() throws Exception {
        seed("data", 20, PASS);
        // bit rot in one envelope, written together with its version record so only the content is wrong
        RegistryPath customers = TestStores.root().child("Entities").child("Customer");
        try (ClusterRegistry r = ClusterRegistries.open(uri("data"))) {
            VersionedValue envelope = r.getValue(customers, "C-0013").orElseThrow();
            VersionedValue version = r.getValue(customers.child("_versions"), "C-0013").orElseThrow();
            byte[] rotten = envelope.value().data();
            rotten[rotten.length - 3] ^= 0x01;
            r.commit(WriteBatch.builder().setValue(customers, "C-0013", RegistryValue.binary(rotten))
                    .setValue(customers.child("_versions"), "C-0013", version.value()).build());
            // and in another one's header: no longer an envelope at all
            byte[] headless = r.getValue(customers, "C-0007").orElseThrow().value().data();
            headless[0] ^= 0x01;
            r.commit(WriteBatch.builder().setValue(customers, "C-0007", RegistryValue.binary(headless))
                    .setValue(customers.child("_versions"), "C-0007", r.getValue(customers.child("_versions"), "C-0007").orElseThrow().value())
                    .build());
        }
        CliProcess.Result verify = CliProcess.inProcess("verify", "--store", uri("data"), "--passphrase-file", file(PASS));
        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(verify.out()).contains("CORRUPT Customer/C-0013: ").contains("CORRUPT Customer/C-0007: ")
                .contains("verified 21 entities in 2 type(s)").contains("2 corrupt or undecryptable");
        assertThat(verify.out().lines().filter(l -> l.startsWith("CORRUPT"))).hasSize(2);

        CliProcess.Result wrongKey = CliProcess.inProcess("verify", "--store", uri("data"), "--passphrase-file", file("not it"), "--json");
        assertThat(wrongKey.exitCode()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(Json.MAPPER.readTree(wrongKey.out()).get("corrupt").asInt()).isEqualTo(21);
    }

    @Test
    void reencryptMovesEveryValueToTheNewKey() throws Exception {
        seed("data", 30, PASS);
        CliProcess.Result noKey = CliProcess.inProcess("reencrypt", "--store", uri("data"));
        assertThat(noKey.exitCode()).isEqualTo(ExitCodes.USAGE);
        CliProcess.Result re = CliProcess.inProcess("reencrypt", "--store", uri("data"), "--passphrase-file", file(NEW_PASS),
                "--previous-passphrase-file", file(PASS));
        assertThat(re.exitCode()).as(re.toString()).isZero();
        assertThat(re.out()).contains("Customer: rewrote 30 of 30 values").contains("Order: rewrote 1 of 1 values")
                .contains("every value is under the active key pp-");
        assertThat(re.err()).contains("reencrypt Customer: 30/30 (100%)").doesNotContain("\r");
        assertThat(re.out() + re.err()).doesNotContain(PASS).doesNotContain(NEW_PASS);
        // the new passphrase alone reads everything now; the old one alone reads nothing
        assertThat(CliProcess.inProcess("verify", "--store", uri("data"), "--passphrase-file", file(NEW_PASS)).exitCode()).isZero();
        assertThat(CliProcess.inProcess("verify", "--store", uri("data"), "--passphrase-file", file(PASS)).exitCode()).isEqualTo(ExitCodes.CHECK_FAILED);
        CliProcess.Result again = CliProcess.inProcess("reencrypt", "--store", uri("data"), "--passphrase-file", file(NEW_PASS), "--json");
        assertThat(Json.MAPPER.readTree(again.out()).get("rewritten").asLong()).isZero();
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"demo", "put", "get", "delete", "list", "count", "status", "health", "watch", "migrate",
                "backup", "restore", "verify", "reencrypt", "failover", "drain", "resume"}) {
            java.io.StringWriter out = new java.io.StringWriter();
            int code = ReliableStoreCli.commandLine(new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()))
                    .execute(command, "--help");
            assertThat(code).as(command).isZero();
            assertThat(out.toString()).as(command).contains("Usage: reliablestore " + command).contains("Exit codes:")
                    .doesNotContain("\u001B[");
        }
        CliProcess.Result help = cli.run("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("migrate").contains("backup").contains("Exit codes:").doesNotContain("\u001B[");
    }
}
