package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NodeState;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The commands against a real ZooKeeper server (curator-test TestingServer): in this JVM where the point is what a command
 * prints, returns and writes (passphrases from files: this JVM's environment cannot be set), as separate processes where
 * it is the process (a signal, a connection that outlives the test's, the passphrase from the environment).
 */
class ZooKeeperProcessTest {

    static TestingServer zookeeper;

    @TempDir
    Path dir;

    CliProcess cli;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zookeeper = new TestingServer(true); // a free port chosen at run time
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        if (zookeeper != null) {
            zookeeper.close();
        }
    }

    @BeforeEach
    void start() {
        cli = new CliProcess(dir, Map.of("RS_PASS", "zk passphrase", "RS_NEW", "rotated zk passphrase"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        cli.close();
    }

    /** Unprotected (acl=open): these tests are about the commands; ZkSecureProcessTest runs with credentials. */
    private static String uri(String chroot) {
        return "zookeeper://127.0.0.1:" + zookeeper.getPort() + "/" + chroot + "?acl=open";
    }

    @Test
    void everyCommandOnZooKeeper() throws Exception {
        String zk = uri("every-command");
        CliProcess.Result put = cli.run("put", "--store", zk, "--passphrase-env", "RS_PASS", "--type", "Customer", "--id", "C-1",
                "{\"name\":\"Acme\"}");
        assertThat(put.exitCode()).as(put.toString()).isZero();
        String[] store = {"--store", zk, "--passphrase-file", file("zk passphrase")};

        // watch sees changes made by other connections, in commit order
        java.io.StringWriter watchOut = new java.io.StringWriter();
        java.io.StringWriter watchErr = new java.io.StringWriter();
        java.util.concurrent.ExecutorService runner = java.util.concurrent.Executors.newSingleThreadExecutor();
        java.util.concurrent.Future<Integer> watch = runner.submit(() -> ReliableStoreCli.commandLine(new java.io.PrintWriter(watchOut, true),
                new java.io.PrintWriter(watchErr, true)).execute(cat(store, "watch", "--type", "Customer", "--max-events", "3", "--json",
                "--timeout", "60s")));
        try {
            // and one without --max-events in a separate process, stopped by SIGTERM: its closing line must count what it printed
            CliProcess.Running open = cli.start("watch", "--store", zk, "--passphrase-env", "RS_PASS", "--type", "Customer");
            await().atMost(Duration.ofSeconds(30)).until(() -> watchErr.toString().contains("watching ") && open.err().contains("watching "));
            assertThat(CliProcess.inProcess(cat(store, "put", "--type", "Customer", "--id", "C-2", "{\"name\":\"Globex\"}")).exitCode()).isZero();
            assertThat(CliProcess.inProcess(cat(store, "put", "--type", "Customer", "--id", "C-1", "--expect-version", "1", "{\"name\":\"Acme 2\"}"))
                    .exitCode()).isZero();
            assertThat(CliProcess.inProcess(cat(store, "delete", "--type", "Customer", "--id", "C-2")).exitCode()).isZero();
            int watched = watch.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(watched).as(watchOut + "\n" + watchErr).isZero();
            List<JsonNode> events = new ArrayList<>();
            for (String line : watchOut.toString().lines().toList()) {
                events.add(Json.MAPPER.readTree(line));
            }
            assertThat(events).hasSize(3);
            assertThat(events.stream().map(e -> e.get("event").asText() + " " + e.get("id").asText() + " " + e.get("version").asText()))
                    .containsExactly("saved C-2 1", "saved C-1 2", "deleted C-2 null");
            assertThat(events.get(0).get("sequence").asLong()).isLessThan(events.get(2).get("sequence").asLong());
            assertThat(events.get(0).get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
            await().atMost(Duration.ofSeconds(30)).until(() -> open.out().lines().count() == 3);
            open.process.toHandle().destroy(); // SIGTERM
            CliProcess.Result openEnded = open.await(30);
            assertThat(openEnded.exitCode()).as(openEnded.toString()).isEqualTo(143);
            assertThat(openEnded.err()).contains("stopped after 3 event(s)");
        } finally {
            runner.shutdownNow();
            assertThat(runner.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }

        CliProcess.Result get = CliProcess.inProcess(cat(store, "get", "--type", "Customer", "--id", "C-1", "--json"));
        assertThat(Json.MAPPER.readTree(get.out()).get("value").get("name").asText()).isEqualTo("Acme 2");
        assertThat(CliProcess.inProcess(cat(store, "list", "--type", "Customer", "--ids-only")).out()).isEqualTo("C-1" + System.lineSeparator());
        assertThat(CliProcess.inProcess(cat(store, "count", "--json")).out()).contains("{\"Customer\":1}");

        CliProcess.Result status = CliProcess.inProcess(cat(store, "status", "--json"));
        assertThat(status.exitCode()).as(status.toString()).isZero();
        JsonNode s = Json.MAPPER.readTree(status.out());
        assertThat(s.get("backend").asText()).isEqualTo("zookeeper");
        assertThat(s.get("layoutVersion").asInt()).isEqualTo(1);
        assertThat(s.get("liveNodes").asInt()).isGreaterThanOrEqualTo(1);
        // the tool's connection never runs for primary: with no application connected there is none
        CliProcess.Result alone = CliProcess.inProcess(cat(store, "health"));
        assertThat(alone.exitCode()).as(alone.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(alone.out()).contains("no node is primary");
        try (ClusterRegistry app = ClusterRegistries.open(zk, Map.of("nodeName", "app-1"))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> app.status().primary().equals(Optional.of("app-1")));
            CliProcess.Result health = CliProcess.inProcess(cat(store, "health"));
            assertThat(health.exitCode()).as(health.toString()).isZero();
            assertThat(health.out()).startsWith("healthy: zookeeper://");
        }

        assertThat(CliProcess.inProcess(cat(store, "verify")).out()).contains("verified 1 entities in 1 type(s)");
        CliProcess.Result re = CliProcess.inProcess("reencrypt", "--store", zk, "--passphrase-file", file("rotated zk passphrase"),
                "--previous-passphrase-file", file("zk passphrase"));
        assertThat(re.exitCode()).as(re.toString()).isZero();
        assertThat(re.out()).contains("Customer: rewrote 1 of 1 values");

        // backup from ZooKeeper, restore into an embedded store and into another chroot
        String backupFile = dir.resolve("zk.rsbackup").toString();
        CliProcess.Result backup = CliProcess.inProcess("backup", "--store", zk, "--out", backupFile);
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        for (String target : new String[] {"embedded:" + dir.resolve("restored"), uri("restored")}) {
            CliProcess.Result restore = CliProcess.inProcess("restore", "--store", target, "--in", backupFile);
            assertThat(restore.exitCode()).as(restore.toString()).isZero();
            CliProcess.Result back = CliProcess.inProcess("get", "--store", target, "--passphrase-file", file("rotated zk passphrase"),
                    "--type", "Customer", "--id", "C-1", "--json");
            assertThat(Json.MAPPER.readTree(back.out()).get("value").get("name").asText()).as(target).isEqualTo("Acme 2");
        }

        // migrate from a file store into ZooKeeper
        String files = "file:" + dir.resolve("files");
        assertThat(CliProcess.inProcess("put", "--store", files, "--type", "Order", "--id", "O-1", "{\"total\":5}").exitCode()).isZero();
        CliProcess.Result migrate = CliProcess.inProcess("migrate", "--from", files, "--to", uri("migrated"));
        assertThat(migrate.exitCode()).as(migrate.toString()).isZero();
        assertThat(migrate.out()).containsPattern("verified Order: 1 entities, sha256 [0-9a-f]{64} on both sides");
    }

    /** A file holding {@code passphrase}, for --passphrase-file and the like. */
    private String file(String passphrase) throws java.io.IOException {
        Path f = dir.resolve(passphrase.replace(' ', '-') + ".txt");
        if (!java.nio.file.Files.exists(f)) {
            java.nio.file.Files.writeString(f, passphrase);
        }
        return f.toString();
    }

    @Test
    void backupTakenWhileWritersRunRestoresOneInstant() throws Exception {
        String zk = uri("busy");
        int pairs = 20;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rounds = new AtomicLong();
        java.util.concurrent.atomic.AtomicLongArray perWriter = new java.util.concurrent.atomic.AtomicLongArray(2);
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> writers = new ArrayList<>();
        try (StoreFactory f = TestStores.cluster(zk)) {
            EntityStore<JsonNode> accounts = f.store("Account", JsonNode.class);
            for (int w = 0; w < 2; w++) {
                int writer = w;
                Thread t = new Thread(() -> {
                    try {
                        for (long k = 1; !stop.get(); k++) {
                            // every write updates a pair together: A-i and B-i always hold the same value
                            Map<String, JsonNode> batch = new LinkedHashMap<>();
                            int i = (int) (k % (pairs / 2)) * 2 + writer;
                            JsonNode v = Json.MAPPER.createObjectNode().put("value", k).put("writer", writer);
                            batch.put("A-" + i, v);
                            batch.put("B-" + i, v);
                            accounts.saveBatch(batch);
                            rounds.incrementAndGet();
                            perWriter.incrementAndGet(writer);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                t.start();
                writers.add(t);
            }
            try {
                // every pair written at least once before the first backup
                await().atMost(Duration.ofSeconds(30)).until(() -> perWriter.get(0) >= pairs / 2 && perWriter.get(1) >= pairs / 2);
                for (int b = 1; b <= 2; b++) {
                    long before = rounds.get();
                    CliProcess.Result backup = CliProcess.inProcess("backup", "--store", zk, "--out",
                            dir.resolve("busy-" + b + ".rsbackup").toString());
                    assertThat(backup.exitCode()).as(backup.toString()).isZero();
                    assertThat(rounds.get()).as("writers kept writing while the backup ran").isGreaterThan(before);
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join(30_000);
                }
            }
        }
        assertThat(failures).isEmpty();
        for (int b = 1; b <= 2; b++) {
            String target = "embedded:" + dir.resolve("restored-" + b);
            CliProcess.Result restore = CliProcess.inProcess("restore", "--store", target, "--in", dir.resolve("busy-" + b + ".rsbackup").toString());
            assertThat(restore.exitCode()).as(restore.toString()).isZero();
            try (StoreFactory f = TestStores.cluster(target)) {
                Map<String, JsonNode> byId = new LinkedHashMap<>();
                for (Versioned<JsonNode> v : f.store("Account", JsonNode.class).getAll()) {
                    byId.put(v.id(), v.value());
                }
                assertThat(byId).hasSize(2 * pairs);
                for (int i = 0; i < pairs; i++) {
                    assertThat(byId.get("A-" + i)).as("pair %d in backup %d", i, b).isEqualTo(byId.get("B-" + i));
                }
            }
        }
    }

    @Test
    void restoreForceReplacesAStoreTooLargeToDeleteInOneRequest() throws Exception {
        String zk = uri("large");
        try (StoreFactory f = TestStores.cluster(zk)) {
            save(f.store("Customer", JsonNode.class), "C-", 600, "before the backup");
        }
        CliProcess.Result backup = CliProcess.inProcess("backup", "--store", zk, "--out", dir.resolve("large.rsbackup").toString());
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        // after the backup: more of everything, one entity changed
        try (StoreFactory f = TestStores.cluster(zk)) {
            save(f.store("Order", JsonNode.class), "O-", 400, "after the backup");
            f.store("Customer", JsonNode.class).save("C-00007", Json.MAPPER.createObjectNode().put("name", "changed"));
        }
        // the smallest maxRequestBytes (256 KiB): deleting these 2,000 values takes far more than one request
        CliProcess.Result restore = CliProcess.inProcess("restore", "--store", zk, "--registry-option", "maxRequestBytes=262144", "--in",
                dir.resolve("large.rsbackup").toString(), "--force", "--json");
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        JsonNode r = Json.MAPPER.readTree(restore.out());
        assertThat(r.get("verified").asBoolean()).isTrue();
        assertThat(r.get("entities")).isEqualTo(Json.MAPPER.readTree("{\"Customer\":600}"));
        assertThat(r.get("batches").asInt()).isGreaterThan(2);
        try (StoreFactory f = TestStores.cluster(zk)) {
            assertThat(f.store("Customer", JsonNode.class).get("C-00007").orElseThrow().value().get("name").asText())
                    .isEqualTo("before the backup 7");
        }
        CliProcess.Result again = CliProcess.inProcess("backup", "--store", zk, "--out", dir.resolve("after.rsbackup").toString(), "--json");
        assertThat(Json.MAPPER.readTree(again.out()).get("contentSha256").asText())
                .isEqualTo(dev.reliablestore.cluster.backup.BackupFile.read(dir.resolve("large.rsbackup")).metadata().path("contentSha256").asText());
    }

    private static void save(EntityStore<JsonNode> store, String prefix, int count, String name) {
        for (int from = 0; from < count; from += 200) {
            Map<String, JsonNode> batch = new LinkedHashMap<>();
            for (int i = from; i < Math.min(count, from + 200); i++) {
                batch.put(String.format("%s%05d", prefix, i), Json.MAPPER.createObjectNode().put("name", name + " " + i));
            }
            store.saveBatch(batch);
        }
    }

    @Test
    void aCommandsConnectionNeverRunsForPrimary() throws Exception {
        String zk = uri("candidates");
        try (StoreFactory f = TestStores.cluster(zk)) {
            f.store("Customer", JsonNode.class).save("C-1", Json.MAPPER.createObjectNode().put("name", "Acme"));
        }
        try (ClusterRegistry app = ClusterRegistries.open(zk, Map.of("nodeName", "app-1"))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> app.status().primary().equals(Optional.of("app-1")));
            CliProcess.Running watch = cli.start("watch", "--store", zk, "--registry-option", "nodeName=cli-watch", "--timeout", "120s");
            await().atMost(Duration.ofSeconds(30)).until(() -> watch.err().contains("watching ")
                    && app.status().nodes().contains(new NodeInfo("cli-watch", NodeState.UP)));
            assertThatThrownBy(() -> app.failover(Optional.of("cli-watch")))
                    .isInstanceOfSatisfying(NodeOperationRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(NodeOperationRefusedException.Reason.NOT_CANDIDATE));
            assertThat(app.status().primary()).contains("app-1");
        }
    }

    static String[] cat(String[] store, String... args) {
        return EntityCommandsProcessTest.cat(args, store);
    }
}
