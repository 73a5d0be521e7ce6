package dev.reliablestore.cluster.audit;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterHooks;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.backup.BackupFile;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** enableAuditLogging/auditLogPath and backupEnabled/backupInterval/backupRetention/backupPath on an embedded registry. */
class AuditAndBackupTest {

    /** A test entity. */
    public record Account(String owner, String secret, long balance) {
    }

    @TempDir
    Path dir;

    private ClusterPersistenceConfiguration.Builder base() {
        return ClusterPersistenceConfiguration.builder().clusterName("embedded:" + dir.resolve("registry"))
                .resourceGroupName("RG").registryKeyPath("Audited");
    }

    private StoreFactory audited(String principal) {
        return audited(principal, base());
    }

    private StoreFactory audited(String principal, ClusterPersistenceConfiguration.Builder builder) {
        return ClusterPersistenceProvider.open(builder.enableAuditLogging(true).auditLogPath(dir.resolve("audit"))
                .hooks(new ClusterHooks() {
                    @Override
                    public Optional<String> nodeName() {
                        return Optional.of("node-1");
                    }

                    @Override
                    public Optional<String> principal() {
                        return Optional.of(principal);
                    }
                }).build());
    }

    private Path log() {
        return AuditLog.fileFor(dir.resolve("audit"), "node-1");
    }

    @Test
    void everyWriteDeleteAndTransactionOutcomeIsChainedAndValuesNeverAppear() throws Exception {
        try (StoreFactory f = audited("alice")) {
            EntityStore<Account> accounts = f.store(Account.class);
            long v1 = accounts.save("A-1", new Account("Ann", "secret-value-1", 10));
            accounts.save("A-1", new Account("Ann", "secret-value-2", 20), v1);
            Map<String, Account> batch = new LinkedHashMap<>();
            batch.put("A-2", new Account("Bob", "secret-value-3", 5));
            batch.put("A-3", new Account("Cid", "secret-value-4", 7));
            accounts.saveBatch(batch);
            accounts.delete("A-2");
            assertThat(accounts.delete("A-404")).isFalse(); // nothing happened: nothing recorded

            TransactionalResource tx = (TransactionalResource) f;
            TransactionBranch committed = tx.begin(TransactionId.of(1, "gtx-1", "b1"));
            committed.store("Account", Account.class).save("A-4", new Account("Dee", "secret-value-5", 1));
            committed.commitOnePhase();
            TransactionBranch rolledBack = tx.begin(TransactionId.of(1, "gtx-2", "b1"));
            rolledBack.store("Account", Account.class).save("A-5", new Account("Eve", "secret-value-6", 1));
            rolledBack.prepare();
            rolledBack.rollback();
        }
        try (StoreFactory f = audited("bob")) { // reopened: the chain continues
            assertThat(f.store(Account.class).clear()).isEqualTo(3);
        }

        List<AuditRecord> records = AuditLog.read(log());
        assertThat(records).extracting(r -> r.op() + " " + (r.type() == null ? "-" : r.type() + "/" + r.id() + " v" + r.version())
                        + " " + r.principal() + (r.tx() == null ? "" : " tx"))
                .containsExactly(
                        "save Account/A-1 v1 alice", "save Account/A-1 v2 alice",
                        "save Account/A-2 v1 alice", "save Account/A-3 v1 alice",
                        "delete Account/A-2 v1 alice",
                        "tx-commit - alice tx", "save Account/A-4 v1 alice tx",
                        "tx-rollback - alice tx",
                        "delete Account/A-1 v2 bob", "delete Account/A-3 v1 bob", "delete Account/A-4 v1 bob");
        assertThat(records).extracting(AuditRecord::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L);
        assertThat(records).allSatisfy(r -> {
            assertThat(r.node()).isEqualTo("node-1");
            assertThat(r.root()).isEqualTo("RG/Audited");
            assertThat(r.time()).isNotBlank();
        });
        assertThat(Files.readString(log())).doesNotContain("secret-value").doesNotContain("Ann");

        AuditLog.Verification intact = AuditLog.verify(log());
        assertThat(intact.intact()).as(intact.problems().toString()).isTrue();
        assertThat(intact.records()).isEqualTo(11);
        assertThat(intact.head()).isEqualTo(records.get(10).hash());
    }

    @Test
    void verifyFindsAnAlteredARemovedAndAReorderedRecord() throws Exception {
        try (StoreFactory f = audited("alice")) {
            EntityStore<Account> accounts = f.store(Account.class);
            for (int i = 1; i <= 6; i++) {
                accounts.save("A-" + i, new Account("Owner " + i, "s", i));
            }
        }
        List<String> lines = Files.readAllLines(log());
        assertThat(AuditLog.verify(log()).intact()).isTrue();

        List<String> altered = new ArrayList<>(lines);
        altered.set(2, altered.get(2).replace("\"principal\":\"alice\"", "\"principal\":\"mallory\""));
        assertThat(problems(altered)).containsExactly("line 3: record seq 3 was altered: its hash does not match its contents");

        // fields added after the hash, which the hash does not cover: a reader keeps the last of a repeated name
        List<String> appended = new ArrayList<>(lines);
        String line = appended.get(2);
        appended.set(2, line.substring(0, line.length() - 1) + ",\"op\":\"delete\",\"principal\":\"mallory\"}");
        assertThat(problems(appended)).first().asString().startsWith("line 3: not an audit record (a field given twice");
        List<String> trailing = new ArrayList<>(lines);
        line = trailing.get(2);
        trailing.set(2, line.substring(0, line.length() - 1) + ",\"note\":\"harmless?\"}");
        assertThat(problems(trailing)).containsExactly("line 3: record seq 3 was altered: text follows its hash");

        List<String> removed = new ArrayList<>(lines);
        removed.remove(3);
        assertThat(problems(removed)).hasSize(2).allMatch(p -> p.startsWith("line 4: record seq 5"))
                .anyMatch(p -> p.contains("records were removed or reordered")).anyMatch(p -> p.contains("records were removed"));

        List<String> reordered = new ArrayList<>(lines);
        reordered.set(1, lines.get(2));
        reordered.set(2, lines.get(1));
        assertThat(problems(reordered)).isNotEmpty().allMatch(p -> p.startsWith("line 2:") || p.startsWith("line 3:") || p.startsWith("line 4:"))
                .anyMatch(p -> p.contains("does not follow the record before it"));
    }

    private List<String> problems(List<String> lines) throws Exception {
        Path copy = Files.createTempFile(dir, "tampered", ".log");
        Files.write(copy, lines);
        return AuditLog.verify(copy).problems().stream().map(p -> "line " + p.line() + ": " + p.description()).toList();
    }

    @Test
    void aTornLastRecordIsCutOffOnOpenAndTheLogIsHeldByOneProcess() throws Exception {
        try (StoreFactory f = audited("alice")) {
            f.store(Account.class).save("A-1", new Account("Ann", "s", 1));
            // while open, the file is locked: another process would be refused; factories of this process share it
            try (StoreFactory g = audited("alice", ClusterPersistenceConfiguration.builder().clusterName("embedded:" + dir.resolve("other"))
                    .resourceGroupName("RG").registryKeyPath("Audited"))) {
                g.store(Account.class).save("A-2", new Account("Bob", "s", 1));
            }
        }
        Files.writeString(log(), "{\"seq\":3,\"time\":\"2025", StandardOpenOption.APPEND); // a crash mid-append
        try (StoreFactory f = audited("alice")) {
            f.store(Account.class).save("A-3", new Account("Cid", "s", 1));
        }
        AuditLog.Verification v = AuditLog.verify(log());
        assertThat(v.intact()).as(v.problems().toString()).isTrue();
        assertThat(AuditLog.read(log())).extracting(AuditRecord::id).containsExactly("A-1", "A-2", "A-3");
    }

    /**
     * The log's lock is a POSIX record lock, which closing any descriptor of the file drops: reading
     * or verifying an open log in the same process, or opening it through a symbolic link, must not
     * let another process open it and fork the chain.
     */
    @Test
    void readingVerifyingAndReopeningAnOpenLogHereKeepsItLockedForOtherProcesses() throws Exception {
        Path audit = dir.resolve("audit");
        Path link = Files.createSymbolicLink(dir.resolve("audit-link"), Files.createDirectories(audit));
        try (AuditLog log = AuditLog.open(audit, "node-1")) {
            log.append(List.of(new AuditLog.Entry("save", "alice", "R", "T", "A-1", 1, null)));
            assertThat(AuditLog.verify(log()).intact()).isTrue();
            assertThat(AuditLog.read(log())).extracting(AuditRecord::id).containsExactly("A-1");
            assertThat(AuditLog.read(AuditLog.fileFor(link, "node-1"))).extracting(AuditRecord::id).containsExactly("A-1");
            try (AuditLog same = AuditLog.open(link, "node-1")) {
                assertThat(same).as("the same file through a symbolic link is the same writer").isSameAs(log);
            }
            assertThat(AuditLockProbe.tryFromAnotherProcess(audit, "node-1"))
                    .startsWith("REFUSED").contains("in use by another process");
            log.append(List.of(new AuditLog.Entry("save", "alice", "R", "T", "A-2", 1, null)));
        }
        assertThat(AuditLockProbe.tryFromAnotherProcess(audit, "node-1")).startsWith("OPENED");
        AuditLog.Verification v = AuditLog.verify(log());
        assertThat(v.intact()).as(v.problems().toString()).isTrue();
        assertThat(AuditLog.read(log())).extracting(AuditRecord::id).containsExactly("A-1", "A-2");
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> base().enableAuditLogging(true).build()).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("enableAuditLogging=true needs auditLogPath");
        assertThatThrownBy(() -> base().auditLogPath(dir).build()).hasMessageContaining("auditLogPath").hasMessageContaining("enableAuditLogging is false");
        assertThatThrownBy(() -> base().backupEnabled(true).build()).hasMessageContaining("backupEnabled=true needs backupPath");
        assertThatThrownBy(() -> base().backupInterval(Duration.ofMinutes(5)).build()).hasMessageContaining("backupEnabled is false");
        assertThatThrownBy(() -> base().backupEnabled(true).backupPath(dir).backupInterval(Duration.ofMillis(10)).build())
                .hasMessageContaining("backupInterval = PT0.01S is invalid: must be a duration from PT1S to PT168H");
        assertThatThrownBy(() -> base().backupEnabled(true).backupPath(dir).backupRetention(0).build())
                .hasMessageContaining("backupRetention = 0 is invalid: must be 1..10000");
        ClusterPersistenceConfiguration fromMap = ClusterPersistenceConfiguration.fromMap(Map.of("resourceGroupName", "RG",
                "registryKeyPath", "X", "enableAuditLogging", "true", "auditLogPath", dir.toString(), "backupEnabled", "true",
                "backupInterval", "30m", "backupRetention", "7", "backupPath", dir.resolve("b").toString()));
        assertThat(fromMap.enableAuditLogging()).isTrue();
        assertThat(fromMap.backupInterval()).isEqualTo(Duration.ofMinutes(30));
        assertThat(fromMap.backupRetention()).isEqualTo(7);
        assertThat(fromMap.backupPath()).contains(dir.resolve("b"));
    }

    @Test
    void scheduledBackupsRunOnThePrimaryAndKeepTheRetentionCount() throws Exception {
        Path backups = dir.resolve("backups");
        Set<String> seen = new TreeSet<>();
        try (StoreFactory f = ClusterPersistenceProvider.open(base().backupEnabled(true).backupPath(backups)
                .backupInterval(Duration.ofSeconds(1)).backupRetention(2).hooks(new ClusterHooks() {
                    @Override
                    public Optional<String> nodeName() {
                        return Optional.of("named-by-the-host"); // not the registry's name for the node: still primary
                    }
                }).build())) {
            EntityStore<Account> accounts = f.store(Account.class);
            accounts.save("A-1", new Account("Ann", "s", 1));
            accounts.save("A-2", new Account("Bob", "s", 2));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                List<String> now = names(backups);
                // the newest is written before the oldest goes (a failed write never leaves fewer than the
                // retention count), so between the two a poll can see one more
                assertThat(now.size()).isLessThanOrEqualTo(2 + 1);
                seen.addAll(now);
                return seen.size() >= 3;
            });
        }
        List<String> kept = names(backups);
        assertThat(kept).hasSize(2);
        BackupFile.Contents newest = BackupFile.read(backups.resolve(kept.get(1)));
        assertThat(newest.snapshot().entityCounts()).containsEntry("Account", 2L);
        assertThat(newest.metadata().path("producer").asText()).isEqualTo("scheduled backup on node named-by-the-host");
        assertThat(newest.root().toString()).isEqualTo("RG/Audited");
    }

    /**
     * Backups are named by the wall clock; one written before the clock was set back sorts after every
     * new one. Pruning must still keep the backup just written (it deleted it, keeping the stale one).
     */
    @Test
    void aScheduledBackupIsNeverPrunedRightAfterItWasWritten() throws Exception {
        Path backups = Files.createDirectories(dir.resolve("backups"));
        Path fromTheFuture = backups.resolve("backup-29991231T235959999Z-1.rsbackup");
        try (dev.reliablestore.registry.ClusterRegistry registry = dev.reliablestore.registry.ClusterRegistries.open(
                "embedded:" + dir.resolve("registry"), Map.of())) {
            // a backup of this very store (retention counts only those), written before the clock was set back
            BackupFile.write(fromTheFuture, dev.reliablestore.cluster.backup.RegistrySnapshot.take(registry,
                    dev.reliablestore.registry.RegistryPath.parse("RG/Audited")), registry.uri(), "scheduled backup on node n");
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(base().backupEnabled(true).backupPath(backups)
                .backupInterval(Duration.ofSeconds(1)).backupRetention(1).build())) {
            f.store(Account.class).save("A-1", new Account("Ann", "s", 1));
            // the first run may come before the save (at open: no backup of the store was due yet); a later one has it
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> !Files.exists(fromTheFuture)
                    && names(backups).stream().anyMatch(n -> hasAccount(backups.resolve(n))));
        }
        List<String> kept = names(backups);
        assertThat(kept).hasSize(1);
        assertThat(BackupFile.read(backups.resolve(kept.get(0))).snapshot().entityCounts()).containsEntry("Account", 1L);
    }

    private static boolean hasAccount(Path backup) {
        try {
            return BackupFile.read(backup).snapshot().entityCounts().getOrDefault("Account", 0L) == 1L;
        } catch (Exception pruned) {
            return false; // deleted by the next run meanwhile
        }
    }

    private static List<String> names(Path backups) throws Exception {
        if (!Files.isDirectory(backups)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(backups)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".rsbackup")).sorted().toList();
        }
    }
}
