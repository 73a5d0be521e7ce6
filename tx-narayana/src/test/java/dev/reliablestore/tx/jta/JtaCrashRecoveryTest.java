package dev.reliablestore.tx.jta;

import dev.reliablestore.api.Versioned;
import dev.reliablestore.tx.testing.ChildJvms;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crashes in the middle of a JTA two-phase commit over a store and H2, with real process deaths
 * (Runtime.halt in a child JVM), then Narayana's recovery in a fresh process: the outcome is what
 * Narayana's log decided.
 */
class JtaCrashRecoveryTest {

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
        return children.run(JtaCrashChild.class, args);
    }

    @Test
    void jtaCrashBetweenPrepareAndCommitIsCommittedByNarayanaRecovery() throws Exception {
        Path objectStore = dir.resolve("object-store");
        Path participant = dir.resolve("participant");
        Path h2 = dir.resolve("h2");
        assertThat(runChild("jta-crash-in-commit", objectStore.toString(), participant.toString(), h2.toString())).isEqualTo(3);
        assertThat(new FileParticipant(participant).preparedRecordFiles()).hasSize(1);
        assertThat(h2InDoubt(h2)).as("H2 holds a prepared branch too").isEqualTo(1);
        assertThat(narayanaLogs(objectStore)).as("the decision is in Narayana's log").hasSize(1);

        assertThat(runChild("jta-recover", objectStore.toString(), participant.toString(), h2.toString())).isZero();

        FileParticipant p = new FileParticipant(participant);
        assertThat(p.preparedRecordFiles()).isEmpty();
        assertThat(p.isLocked("Order", "o1")).isFalse();
        assertThat(p.store("Order", String.class).get("o1")).map(Versioned::value).contains("x");
        assertThat(h2Rows(h2)).isEqualTo(1);
        assertThat(h2InDoubt(h2)).isZero();
        assertThat(narayanaLogs(objectStore)).as("the finished log is removed").isEmpty();
    }

    @Test
    void jtaCrashAfterOnlyOnePrepareIsRolledBackEverywhereByNarayanaRecovery() throws Exception {
        Path objectStore = dir.resolve("object-store");
        Path participant = dir.resolve("participant");
        Path h2 = dir.resolve("h2");
        assertThat(runChild("jta-crash-in-prepare", objectStore.toString(), participant.toString(), h2.toString())).isEqualTo(3);
        assertThat(new FileParticipant(participant).preparedRecordFiles()).as("the store had prepared").hasSize(1);
        assertThat(narayanaLogs(objectStore)).as("no decision was logged").isEmpty();

        assertThat(runChild("jta-recover", objectStore.toString(), participant.toString(), h2.toString())).isZero();

        FileParticipant p = new FileParticipant(participant);
        assertThat(p.preparedRecordFiles()).isEmpty();
        assertThat(p.isLocked("Order", "o1")).isFalse();
        assertThat(p.store("Order", String.class).exists("o1")).isFalse();
        assertThat(h2Rows(h2)).isZero();
        assertThat(h2InDoubt(h2)).isZero();
    }

    /**
     * The database, enlisted first, committed before the crash and no longer reports its branch;
     * recovery commits the store's. The database's log record carries the data source's name, so
     * Narayana takes the branch for committed and removes the log instead of keeping it (and warning
     * and rescanning) for ever.
     */
    @Test
    void aDatabaseEnlistedFirstAndCommittedBeforeTheCrashLetsRecoveryRemoveTheLog() throws Exception {
        Path objectStore = dir.resolve("object-store");
        Path participant = dir.resolve("participant");
        Path h2 = dir.resolve("h2");
        assertThat(runChild("jta-db-first-crash-in-store-commit", objectStore.toString(), participant.toString(), h2.toString())).isEqualTo(3);
        assertThat(new FileParticipant(participant).preparedRecordFiles()).as("the store had not committed").hasSize(1);
        assertThat(h2InDoubt(h2)).as("the database committed before the crash").isZero();
        assertThat(h2Rows(h2)).isEqualTo(1);
        assertThat(narayanaLogs(objectStore)).hasSize(1);

        assertThat(runChild("jta-recover-data-source", objectStore.toString(), participant.toString(), h2.toString())).isZero();

        FileParticipant p = new FileParticipant(participant);
        assertThat(p.preparedRecordFiles()).isEmpty();
        assertThat(p.store("Order", String.class).get("o1")).map(Versioned::value).contains("x");
        assertThat(narayanaLogs(objectStore)).as("the finished log is removed").isEmpty();
    }

    private static int h2Rows(Path h2) throws Exception {
        XAConnection xc = JtaCrashChild.h2(h2).getXAConnection();
        try (Statement s = xc.getConnection().createStatement();
             ResultSet rs = s.executeQuery("select count(*) from ledger")) {
            rs.next();
            return rs.getInt(1);
        } finally {
            xc.close();
        }
    }

    private static int h2InDoubt(Path h2) throws Exception {
        XAConnection xc = JtaCrashChild.h2(h2).getXAConnection();
        try {
            return xc.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN).length;
        } finally {
            xc.close();
        }
    }

    private static List<Path> narayanaLogs(Path objectStore) throws IOException {
        if (!Files.exists(objectStore)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(objectStore)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().contains("AtomicAction"))
                    .toList();
        }
    }
}
