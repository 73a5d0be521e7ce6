package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterHooks;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.audit.AuditLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** audit show / audit verify on a log the provider wrote, and restore of a scheduled backup (one run as a separate process). */
class AuditProcessTest {

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

    @Test
    void auditVerifyFailsOnAnAlteredADeletedAndAReorderedRecord() throws Exception {
        Path backups = dir.resolve("backups");
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir.resolve("data")).resourceGroupName(StoreSpec.DEFAULT_RESOURCE_GROUP)
                .registryKeyPath(StoreSpec.DEFAULT_KEY_PATH).enableAuditLogging(true).auditLogPath(dir.resolve("audit"))
                .backupEnabled(true).backupPath(backups).backupInterval(Duration.ofSeconds(1)).backupRetention(3)
                .hooks(new ClusterHooks() {
                    @Override
                    public Optional<String> nodeName() {
                        return Optional.of("node-1");
                    }

                    @Override
                    public Optional<String> principal() {
                        return Optional.of("alice");
                    }
                }).build())) {
            EntityStore<JsonNode> customers = f.store("Customer", JsonNode.class);
            for (int i = 1; i <= 5; i++) {
                customers.save("C-" + i, Json.MAPPER.createObjectNode().put("name", "Customer " + i).put("card", "4111-secret"));
            }
            customers.delete("C-5");
            // the first run may come before the saves (at open, as no backup was due yet): wait for one that holds them
            await().atMost(Duration.ofSeconds(30)).until(() -> withTheCustomers(backups) != null);
        }
        Path log = AuditLog.fileFor(dir.resolve("audit"), "node-1");

        // in this JVM: these are about what the commands print and return; the exit code a script sees is checked once below
        CliProcess.Result show = CliProcess.inProcess("audit", "show", "--file", log.toString(), "--id", "C-5");
        assertThat(show.exitCode()).as(show.toString()).isZero();
        assertThat(show.out().lines()).hasSize(2);
        assertThat(show.out()).contains("\tnode-1\talice\tsave\tCustomer/C-5\tv1").contains("\talice\tdelete\tCustomer/C-5\tv1")
                .doesNotContain("4111");
        JsonNode all = Json.MAPPER.readTree(CliProcess.inProcess("audit", "show", "--file", log.toString(), "--json").out());
        assertThat(all.size()).isEqualTo(6);
        assertThat(all.get(5).get("op").asText()).isEqualTo("delete");

        CliProcess.Result intact = CliProcess.inProcess("audit", "verify", "--file", log.toString());
        assertThat(intact.exitCode()).as(intact.toString()).isZero();
        assertThat(intact.out()).startsWith("intact: 6 records, head ");
        String head = intact.out().strip().substring(intact.out().strip().lastIndexOf(' ') + 1);
        assertThat(CliProcess.inProcess("audit", "verify", "--file", log.toString(), "--expect-head", head).exitCode()).isZero();

        List<String> lines = Files.readAllLines(log);
        List<String> altered = new ArrayList<>(lines);
        altered.set(1, altered.get(1).replace("\"op\":\"save\"", "\"op\":\"delete\""));
        List<String> deleted = new ArrayList<>(lines);
        deleted.remove(2);
        List<String> reordered = new ArrayList<>(lines);
        reordered.set(3, lines.get(4));
        reordered.set(4, lines.get(3));
        List<String> truncated = lines.subList(0, 5);
        Map<String, List<String>> tampered = Map.of("altered", altered, "deleted", deleted, "reordered", reordered);
        Map<String, String> why = Map.of("altered", "line 2: record seq 2 was altered",
                "deleted", "line 3: record seq 4 does not follow the record before it", "reordered", "BROKEN: ");
        for (Map.Entry<String, List<String>> t : tampered.entrySet()) {
            Path copy = dir.resolve(t.getKey() + ".log");
            Files.write(copy, t.getValue());
            CliProcess.Result r = CliProcess.inProcess("audit", "verify", "--file", copy.toString());
            assertThat(r.exitCode()).as(t.getKey() + ": " + r).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(r.out()).as(t.getKey()).contains("BROKEN: ").contains(why.get(t.getKey()));
        }
        // a log cut at its end is still a valid chain: only the remembered head shows it
        Path cut = dir.resolve("cut.log");
        Files.write(cut, truncated);
        CliProcess.Result cutIntact = CliProcess.inProcess("audit", "verify", "--file", cut.toString());
        assertThat(cutIntact.exitCode()).isZero();
        // a log that grew since a head was kept is intact: the kept head is still in its chain
        String earlierHead = cutIntact.out().strip().substring(cutIntact.out().strip().lastIndexOf(' ') + 1);
        CliProcess.Result grown = CliProcess.inProcess("audit", "verify", "--file", log.toString(), "--expect-head", earlierHead);
        assertThat(grown.exitCode()).as(grown.toString()).isZero();
        // the head printed while the log was empty is the chain's start: still in it
        CliProcess.Result fromEmpty = CliProcess.inProcess("audit", "verify", "--file", log.toString(), "--expect-head", "0".repeat(64));
        assertThat(fromEmpty.exitCode()).as(fromEmpty.toString()).isZero();
        // as a separate process: the status a script's check acts on
        CliProcess.Result cutWithHead = cli.run("audit", "verify", "--file", cut.toString(), "--expect-head", head, "--json");
        assertThat(cutWithHead.exitCode()).as(cutWithHead.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(Json.MAPPER.readTree(cutWithHead.out()).get("intact").asBoolean()).isFalse();

        CliProcess.Result missing = CliProcess.inProcess("audit", "verify", "--file", dir.resolve("nope.log").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.FAILED);
        assertThat(missing.err()).contains("does not exist").hasLineCount(1);

        // a scheduled backup is a backup like any other: the tool restores it
        Path scheduled = withTheCustomers(backups);
        CliProcess.Result restore = CliProcess.inProcess("restore", "--store", "embedded:" + dir.resolve("restored"), "--in", scheduled.toString());
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("verified: the store's contents equal the backup");
    }

    /** A scheduled backup holding the four customers left, or null. */
    private static Path withTheCustomers(Path backups) throws Exception {
        for (Path p : backupFiles(backups)) {
            try {
                if (dev.reliablestore.cluster.backup.BackupFile.read(p).snapshot().entityCounts().getOrDefault("Customer", 0L) == 4L) {
                    return p;
                }
            } catch (Exception pruned) {
                // deleted by a later run meanwhile
            }
        }
        return null;
    }

    private static List<Path> backupFiles(Path backups) throws Exception {
        if (!Files.isDirectory(backups)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(backups)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".rsbackup")).sorted().toList();
        }
    }
}
