package dev.reliablestore.cluster.audit;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterHooks;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An interrupt of the thread that appends (its flag already set, or arriving during the write or the
 * fsync) neither closes the log's channel nor stops the log: the record is written and forced, the
 * caller keeps its interrupt, the next append is taken, and the file stays locked against other
 * processes. The embedded registry commits through an interrupt on purpose, so a cancelled or timed-out
 * save reaches the audit append with its thread's flag set.
 */
class AuditLogInterruptTest {

    /** A test entity. */
    public record Account(String owner, long balance) {
    }

    @TempDir
    Path dir;

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted(); // a failed assertion must not leave the flag to the next test
    }

    private static List<AuditLog.Entry> save(String id) {
        return List.of(new AuditLog.Entry("save", "alice", "/root", "Customer", id, 1, null));
    }

    @Test
    void anAppendOnAnInterruptedThreadIsWrittenAndTheLogTakesTheNext() throws Exception {
        Path audit = dir.resolve("audit");
        Path file;
        try (AuditLog log = AuditLog.open(audit, "node-1")) {
            file = log.file();
            Thread.currentThread().interrupt();
            log.append(save("a"));
            assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
            log.append(save("b"));
            assertThat(AuditLockProbe.tryFromAnotherProcess(audit, "node-1")).as("the lock was not dropped")
                    .startsWith("REFUSED").contains("in use by another process");
        }
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "b");
        assertThat(AuditLog.verify(file).intact()).isTrue();
    }

    @Test
    void anInterruptArrivingDuringTheAppendDoesNotStopTheLog() throws Exception {
        Path audit = dir.resolve("audit");
        Thread caller = Thread.currentThread();
        HookedChannel[] channel = new HookedChannel[1];
        Path file;
        try (AuditLog log = AuditLog.open(audit, "node-1", real -> channel[0] = new HookedChannel(real))) {
            file = log.file();
            log.append(save("a"));
            channel[0].beforeForce = () -> {
                channel[0].beforeForce = () -> { };
                caller.interrupt(); // the record is written, its fsync is next
            };
            log.append(save("b"));
            assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
            log.append(save("c"));
            assertThat(AuditLockProbe.tryFromAnotherProcess(audit, "node-1")).as("the lock was not dropped")
                    .startsWith("REFUSED").contains("in use by another process");
        }
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "b", "c");
        assertThat(AuditLog.read(file)).extracting(AuditRecord::seq).containsExactly(1L, 2L, 3L);
        assertThat(AuditLog.verify(file).intact()).isTrue();
    }

    /** Reading or verifying an open log goes through its channel: an interrupted reader must not close it either. */
    @Test
    void readingAnOpenLogOnAnInterruptedThreadDoesNotStopIt() {
        Path file;
        try (AuditLog log = AuditLog.open(dir.resolve("audit"), "node-1")) {
            file = log.file();
            log.append(save("a"));
            Thread.currentThread().interrupt();
            assertThat(AuditLog.verify(file).intact()).isTrue();
            assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a");
            assertThat(Thread.interrupted()).isTrue();
            log.append(save("b"));
        }
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "b");
    }

    @Test
    void aSaveOnAnInterruptedThreadIsAuditedAndTheNextSaveToo() {
        try (StoreFactory f = ClusterPersistenceProvider.open(ClusterPersistenceConfiguration.builder()
                .clusterName("embedded:" + dir.resolve("registry")).resourceGroupName("RG").registryKeyPath("Audited")
                .enableAuditLogging(true).auditLogPath(dir.resolve("audit"))
                .hooks(new ClusterHooks() {
                    @Override
                    public Optional<String> nodeName() {
                        return Optional.of("node-1");
                    }
                }).build())) {
            EntityStore<Account> accounts = f.store(Account.class);
            Thread.currentThread().interrupt();
            accounts.save("a", new Account("Ann", 1));
            assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
            accounts.save("b", new Account("Bob", 2));
        }
        Path file = AuditLog.fileFor(dir.resolve("audit"), "node-1");
        assertThat(AuditLog.read(file)).extracting(AuditRecord::id).containsExactly("a", "b");
        assertThat(AuditLog.verify(file).intact()).isTrue();
    }
}
