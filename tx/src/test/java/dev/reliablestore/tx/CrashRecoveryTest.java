package dev.reliablestore.tx;

import dev.reliablestore.api.Versioned;
import dev.reliablestore.tx.testing.ChildJvms;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crashes of the local coordinator in the middle of two-phase commit, with real process deaths
 * (Runtime.halt in a child JVM), then recovery in a fresh process: the outcome is what the
 * coordinator's log decided. (The JTA twin is tx-narayana's JtaCrashRecoveryTest.)
 */
class CrashRecoveryTest {

    @TempDir
    Path dir;

    private ChildJvms children;

    @BeforeEach
    void children() {
        children = new ChildJvms(dir);
    }

    @AfterEach
    void reapChildren() {
        children.close();
    }

    private int runChild(String... args) throws IOException, InterruptedException {
        return children.run(CrashChild.class, args);
    }

    @Test
    void localCoordinatorCrashAfterTheDecisionCommitsEverywhereOnRecovery() throws Exception {
        Path log = dir.resolve("txlog");
        assertThat(runChild("local-crash-in-commit", log.toString(), dir.resolve("a").toString(), dir.resolve("b").toString()))
                .as("halted in phase two").isEqualTo(3);
        FileParticipant a = new FileParticipant(dir.resolve("a"));
        FileParticipant b = new FileParticipant(dir.resolve("b"));
        assertThat(a.preparedRecordFiles()).hasSize(1);
        assertThat(b.preparedRecordFiles()).hasSize(1);
        assertThat(a.isLocked("Order", "o1")).isTrue();
        try (TransactionFactory factory = TransactionFactory.builder().nodeName(CrashChild.LOCAL_NODE).logDirectory(log).build()) {
            RecoveryResult result = factory.recover(List.of(a, b));
            assertThat(result.committed()).hasSize(2);
            assertThat(result.rolledBack()).isEmpty();
            assertThat(result.failed()).isEmpty();
            assertThat(result.pendingDecisions()).isEmpty();
        }
        assertThat(a.store("Order", String.class).get("o1")).map(Versioned::value).contains("x");
        assertThat(b.store("Account", String.class).get("a1")).map(Versioned::value).contains("y");
        assertThat(a.preparedRecordFiles()).isEmpty();
        assertThat(b.preparedRecordFiles()).isEmpty();
        assertThat(a.isLocked("Order", "o1")).isFalse();
        assertThat(log.toFile().list((d, name) -> name.endsWith(CoordinatorLog.SUFFIX))).as("decisions left").isEmpty();
    }

    @Test
    void localCoordinatorCrashBeforeTheDecisionRollsBackEverywhereOnRecovery() throws Exception {
        Path log = dir.resolve("txlog");
        assertThat(runChild("local-crash-in-prepare", log.toString(), dir.resolve("a").toString(), dir.resolve("b").toString()))
                .isEqualTo(3);
        FileParticipant a = new FileParticipant(dir.resolve("a"));
        FileParticipant b = new FileParticipant(dir.resolve("b"));
        assertThat(a.preparedRecordFiles()).as("only the first writer prepared").hasSize(1);
        assertThat(b.preparedRecordFiles()).isEmpty();
        try (TransactionFactory other = TransactionFactory.builder().nodeName("another-node").logDirectory(dir.resolve("other")).build()) {
            assertThat(other.recover(List.of(a, b)).rolledBack()).as("another node leaves it alone").isEmpty();
        }
        try (TransactionFactory factory = TransactionFactory.builder().nodeName(CrashChild.LOCAL_NODE).logDirectory(log).build()) {
            RecoveryResult result = factory.recover(List.of(a, b));
            assertThat(result.rolledBack()).hasSize(1);
            assertThat(result.committed()).isEmpty();
        }
        assertThat(a.preparedRecordFiles()).isEmpty();
        assertThat(a.store("Order", String.class).exists("o1")).isFalse();
        assertThat(b.store("Account", String.class).exists("a1")).isFalse();
        assertThat(a.isLocked("Order", "o1")).isFalse();
    }
}
