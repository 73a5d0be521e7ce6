package dev.reliablestore.tx;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.TransactionOutcomeUnknownException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.tx.testing.ChildJvms;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code recover()} while transactions commit, coordinators sharing a log directory or a node name,
 * a coordinator's lost identity, and a decision whose fsync fails after its rename: each a way to
 * commit one branch of a transaction and roll back another. Every test but the compatibility one
 * fails against the coordinator before these cases were handled.
 */
class RecoveryRacesTest {

    @TempDir
    Path tmp;

    FileParticipant shopData;
    FileParticipant bankData;
    ScriptedParticipant shop;
    ScriptedParticipant bank;
    TransactionFactory transactions;

    @BeforeEach
    void setUp() {
        shopData = new FileParticipant(tmp.resolve("shop"));
        bankData = new FileParticipant(tmp.resolve("bank"));
        shop = new ScriptedParticipant(shopData);
        bank = new ScriptedParticipant(bankData);
        transactions = TransactionFactory.builder().nodeName("node-1").logDirectory(tmp.resolve("txlog")).build();
    }

    @AfterEach
    void tearDown() {
        transactions.close();
    }

    /** Commits o1 at the shop and a1 at the bank in one transaction of {@code factory}. */
    private void transfer(TransactionFactory factory) {
        try (Transaction tx = factory.begin()) {
            tx.enlist(shop).store("Order", String.class).save("o1", "paid");
            tx.enlist(bank).store("Account", String.class).save("a1", "debited");
            tx.commit();
        }
    }

    private long decisionFiles() throws IOException {
        try (var files = java.nio.file.Files.list(tmp.resolve("txlog"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(CoordinatorLog.SUFFIX)).count();
        }
    }

    private void assertBothCommitted() {
        assertThat(shopData.store("Order", String.class).get("o1")).map(Versioned::value).contains("paid");
        assertThat(bankData.store("Account", String.class).get("a1")).map(Versioned::value).contains("debited");
        assertThat(shopData.preparedRecordFiles()).isEmpty();
        assertThat(bankData.preparedRecordFiles()).isEmpty();
    }

    /**
     * A store call that arrives while commit tells writers from readers (here: from the coordinator's
     * own question, the one point a call could slip in) is refused, so no branch counted as a reader
     * ends up holding a write that nobody commits, and locks that nobody releases.
     */
    @Test
    void aWriteArrivingWhileCommitSortsTheBranchesIsRefused() {
        List<Throwable> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Transaction tx = transactions.begin()) {
            EntityStore<String> accounts = tx.enlist(bank).store("Account", String.class);
            assertThat(accounts.get("a1")).isEmpty(); // enlisted, nothing written: a reader so far
            tx.enlist(shop).store("Order", String.class).save("o1", "paid");
            bank.onIsReadOnly = () -> {
                try {
                    accounts.save("a1", "slipped in");
                } catch (RuntimeException e) {
                    refused.add(e);
                }
            };
            tx.commit();
        }
        assertThat(refused).singleElement().isInstanceOf(dev.reliablestore.api.TransactionStateException.class);
        assertThat(bankData.store("Account", String.class).get("a1")).isEmpty();
        assertThat(bankData.preparedRecordFiles()).as("no branch left prepared").isEmpty();
        assertThat(shopData.store("Order", String.class).get("o1")).map(Versioned::value).contains("paid");
    }

    /**
     * A resource that cannot list its branches now is reported, not thrown: the others are still
     * finished, and the decisions it may need are kept for the next call.
     */
    @Test
    void aResourceThatCannotListItsBranchesIsReportedAndTheOthersAreFinished() throws IOException {
        bank.failNextCommit = true;
        transfer(transactions); // decided; the bank's branch stays prepared
        assertThat(bankData.preparedRecordFiles()).hasSize(1);
        shop.beforeRecover = () -> {
            throw new dev.reliablestore.api.StoreUnavailableException("shop registry unreachable");
        };
        RecoveryResult first = transactions.recover(List.of(shop, bank));
        assertThat(first.unreachable()).containsOnlyKeys(shop.resourceManagerId())
                .hasValueSatisfying(new org.assertj.core.api.Condition<>(r -> r.contains("shop registry unreachable"), "the reason"));
        assertThat(first.committed()).as("the bank's branch, finished all the same").hasSize(1);
        assertThat(first.isClean()).isFalse();
        assertThat(decisionFiles()).as("kept for the shop").isEqualTo(1);
        RecoveryResult second = transactions.recover(List.of(shop, bank));
        assertThat(second.isClean()).isTrue();
        assertThat(decisionFiles()).isZero();
        assertBothCommitted();
    }

    /**
     * A transaction decides and ends after recovery read the log but before a resource reports its
     * branch (its phase-two commit at the bank failed, so the branch is still prepared): the branch
     * is not live and was not in the decisions read, yet it must be committed, not presumed aborted.
     */
    @Test
    void aDecisionWrittenAfterRecoveryReadTheLogIsFoundBeforeABranchIsPresumedAborted() {
        bank.failNextCommit = true;
        bank.beforeRecover = () -> transfer(transactions); // shop's scan already ran; the log was read before it
        RecoveryResult result = transactions.recover(List.of(shop, bank));
        assertThat(result.rolledBack()).as("presumed aborted").isEmpty();
        assertThat(result.committed()).hasSize(1);
        assertBothCommitted();
    }

    /**
     * Recovery finds a logged transaction's branches while it still runs (skipped), and the
     * transaction ends before recovery's clean-up with its bank commit failed: its decision must
     * stay, or the next recovery rolls back the bank's branch of a committed transaction.
     */
    @Test
    void theDecisionOfATransactionRunningDuringRecoveryIsKept() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        shop.holdCommit = release;
        bank.failNextCommit = true;
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> transfer(transactions));
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> bankData.preparedRecordFiles().size() == 1
                && shopData.preparedRecordFiles().size() == 1 && decisionFiles() == 1);
        // a third resource, scanned after the shop and the bank skipped the running transaction's branches
        ScriptedParticipant audit = new ScriptedParticipant(new FileParticipant(tmp.resolve("audit")));
        audit.beforeRecover = () -> {
            release.countDown();
            running.join(); // committed at the shop, failed at the bank, ended: no longer live
        };
        RecoveryResult first = transactions.recover(List.of(shop, bank, audit));
        assertThat(first.rolledBack()).isEmpty();
        assertThat(first.committed()).as("its branches were skipped while it ran").isEmpty();
        assertThat(first.pendingDecisions()).as("kept for the bank's branch").hasSize(1);
        RecoveryResult second = transactions.recover(List.of(shop, bank));
        assertThat(second.rolledBack()).as("presumed aborted").isEmpty();
        assertThat(second.committed()).hasSize(1);
        assertBothCommitted();
    }

    /** Another node's coordinator on the same log directory neither deletes nor uses our decisions. */
    @Test
    void aCoordinatorOfAnotherNodeSharingTheLogDirectoryLeavesOurDecisionsAlone() {
        bank.failNextCommit = true;
        transfer(transactions);
        try (TransactionFactory other = TransactionFactory.builder().nodeName("node-2").logDirectory(tmp.resolve("txlog")).build()) {
            RecoveryResult theirs = other.recover(List.of(shop, bank));
            assertThat(theirs.committed()).isEmpty();
            assertThat(theirs.rolledBack()).isEmpty();
            assertThat(theirs.pendingDecisions()).isEmpty();
        }
        RecoveryResult ours = transactions.recover(List.of(shop, bank));
        assertThat(ours.rolledBack()).as("presumed aborted").isEmpty();
        assertThat(ours.committed()).hasSize(1);
        assertBothCommitted();
    }

    /**
     * The decision is renamed into place, then the directory's fsync fails: the decision may be on
     * disk, so rolling the participants back could leave one committed after a crash. Every branch
     * stays prepared and the caller learns the outcome is unknown; recovery commits them all.
     */
    @Test
    void aDecisionWhoseDirectoryFsyncFailsAfterTheRenameLeavesEveryBranchPrepared() {
        CoordinatorLog log = ((LocalTransactionFactory) transactions).log();
        log.directorySync = dir -> {
            throw new IOException("Input/output error (injected directory fsync failure)");
        };
        assertThatThrownBy(() -> transfer(transactions))
                .isInstanceOf(TransactionOutcomeUnknownException.class)
                .hasMessageContaining("could not be made durable").hasMessageContaining("Input/output error")
                .hasMessageContaining("left prepared");
        assertThat(shopData.preparedRecordFiles()).hasSize(1);
        assertThat(bankData.preparedRecordFiles()).hasSize(1);
        log.directorySync = dir -> { };
        RecoveryResult result = transactions.recover(List.of(shop, bank));
        assertThat(result.committed()).hasSize(2);
        assertThat(result.rolledBack()).isEmpty();
        assertBothCommitted();
    }

    /**
     * The same failure, then recover() in the same process while the directory still cannot be
     * synced: the decision it reads is not durable yet, and a power cut could still take it, after
     * which recovery would presume abort. Committing one branch on it first would leave that branch
     * committed and the other rolled back, so nothing is committed until the decision is durable.
     */
    @Test
    void recoveryCommitsNothingOnADecisionWhoseDirectoryCannotBeSynced() throws IOException {
        CoordinatorLog log = ((LocalTransactionFactory) transactions).log();
        log.directorySync = dir -> {
            throw new IOException("Input/output error (injected directory fsync failure)");
        };
        assertThatThrownBy(() -> transfer(transactions)).isInstanceOf(TransactionOutcomeUnknownException.class);
        RecoveryResult stuck = transactions.recover(List.of(shop, bank));
        assertThat(stuck.committed()).as("committed on a decision a power cut could still take").isEmpty();
        assertThat(stuck.rolledBack()).isEmpty();
        assertThat(stuck.failed()).hasSize(2).allSatisfy((branch, why) -> assertThat(why)
                .contains("could not be made durable").contains("Input/output error").contains("left prepared"));
        assertThat(stuck.pendingDecisions()).hasSize(1);
        assertThat(shopData.preparedRecordFiles()).hasSize(1);
        assertThat(bankData.preparedRecordFiles()).hasSize(1);
        assertThat(decisionFiles()).isEqualTo(1);

        log.directorySync = dir -> { };
        RecoveryResult finished = transactions.recover(List.of(shop, bank));
        assertThat(finished.committed()).hasSize(2);
        assertThat(finished.isClean()).isTrue();
        assertBothCommitted();
    }

    /**
     * A decision of another node sharing the directory is finished and deleted by its coordinator
     * between this recovery's listing of the log and its reading of that file: it is skipped (it
     * was finished), not a failure of the whole recovery.
     */
    @Test
    void aDecisionDeletedBetweenTheListingAndTheReadIsSkipped() {
        Path logDir = tmp.resolve("txlog");
        try (TransactionFactory other = TransactionFactory.builder().nodeName("node-2").logDirectory(logDir).build()) {
            bank.failNextCommit = true;
            transfer(other); // node-2's decision stays for the bank's branch
            java.util.concurrent.atomic.AtomicInteger finishedMeanwhile = new java.util.concurrent.atomic.AtomicInteger();
            ((LocalTransactionFactory) transactions).log().beforeReading = decision -> {
                if (finishedMeanwhile.getAndIncrement() == 0) {
                    assertThat(other.recover(List.of(shop, bank)).committed()).hasSize(1); // deletes its decision
                }
            };
            RecoveryResult ours = transactions.recover(List.of(shop, bank));
            assertThat(finishedMeanwhile).as("the hook ran").hasPositiveValue();
            assertThat(ours.isClean()).isTrue();
            assertThat(ours.committed()).isEmpty();
            assertThat(ours.rolledBack()).isEmpty();
        }
        assertBothCommitted();
    }

    /** A failure before the rename (the decision cannot have taken effect) still rolls back at once. */
    @Test
    void aDecisionThatCannotBeWrittenRollsBackEverywhere() throws Exception {
        Path logDir = ((LocalTransactionFactory) transactions).log().directory();
        java.nio.file.Files.delete(logDir.resolve("node-1" + CoordinatorLock.SUFFIX)); // still locked: Linux deletes it anyway
        java.nio.file.Files.delete(logDir.resolve("node-1" + CoordinatorLog.ID_SUFFIX));
        java.nio.file.Files.delete(logDir);
        java.nio.file.Files.writeString(logDir, "not a directory"); // the decision's temporary file cannot be created
        assertThatThrownBy(() -> transfer(transactions))
                .isInstanceOf(dev.reliablestore.api.TransactionRolledBackException.class)
                .hasMessageContaining("could not be written");
        assertThat(shopData.preparedRecordFiles()).isEmpty();
        assertThat(bankData.preparedRecordFiles()).isEmpty();
        assertThat(shopData.store("Order", String.class).exists("o1")).isFalse();
        assertThat(bankData.store("Account", String.class).exists("a1")).isFalse();
    }

    /**
     * A second coordinator of the same node on the same log would presume abort for the first one's
     * prepared branches in recover() and delete its half-written decisions at start-up: it is
     * refused, in this process and in another, and the refusal leaves the first one's lock in place
     * (on Linux closing any descriptor of a locked file drops the process's lock on it).
     */
    @Test
    void aSecondCoordinatorOfTheSameNodeOnTheSameLogIsRefusedHereAndInAnotherProcess() throws Exception {
        Path log = tmp.resolve("txlog");
        assertThatThrownBy(() -> TransactionFactory.builder().nodeName("node-1").logDirectory(log).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("node name \"node-1\" already has an open transaction factory")
                .hasMessageContaining(log.toString()).hasMessageContaining("in this process");
        try (ChildJvms children = new ChildJvms(tmp)) {
            assertThat(children.run(CrashChild.class, "open-node", log.toString(), "node-1"))
                    .as("refused in another process too").isEqualTo(CrashChild.REFUSED);
        }
        transfer(transactions);
        assertBothCommitted();
    }

    /**
     * close() lets the node's log go only when its last transaction has ended: one still running
     * may write its decision after close, and a new coordinator's recover() must not presume it
     * aborted.
     */
    @Test
    void aClosedCoordinatorKeepsItsLogUntilItsLastTransactionEnds() {
        Transaction running = transactions.begin();
        running.enlist(shop).store("Order", String.class).save("o1", "paid");
        running.enlist(bank).store("Account", String.class).save("a1", "debited");
        transactions.close();
        TransactionFactory.Builder next = TransactionFactory.builder().nodeName("node-1").logDirectory(tmp.resolve("txlog"));
        assertThatThrownBy(next::build).isInstanceOf(ConfigurationException.class).hasMessageContaining("in this process");
        assertThatThrownBy(() -> transactions.recover(List.of(shop, bank)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        running.commit();
        assertBothCommitted();
        try (TransactionFactory reopened = next.build()) {
            assertThat(reopened.recover(List.of(shop, bank)).rolledBack()).isEmpty();
        }
    }

    /**
     * close() while a recover() of the same factory runs (here: held inside the shop's listing): the
     * node's log stays locked until that recover() returns. A new coordinator of the node opened
     * meanwhile would prepare branches the running recover() finds under the same identity, not live
     * and without a decision, and rolls back, while the new one commits the others. Fails when close()
     * lets the log go once no transaction is running.
     */
    @Test
    void aClosedCoordinatorKeepsItsLogUntilItsRunningRecoveryReturns() {
        CountDownLatch listing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        shop.beforeRecover = () -> {
            listing.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while held", e);
            }
        };
        CompletableFuture<RecoveryResult> running = CompletableFuture.supplyAsync(() -> transactions.recover(List.of(shop, bank)));
        TransactionFactory.Builder next = TransactionFactory.builder().nodeName("node-1").logDirectory(tmp.resolve("txlog"));
        try {
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> listing.getCount() == 0);
            transactions.close();
            assertThatThrownBy(next::build).as("opened while the closed factory's recover() runs")
                    .isInstanceOf(ConfigurationException.class).hasMessageContaining("in this process");
            assertThatThrownBy(() -> transactions.recover(List.of(shop, bank)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        } finally {
            release.countDown();
        }
        assertThat(running.join().isClean()).isTrue();
        try (TransactionFactory reopened = next.build()) {
            transfer(reopened);
        }
        assertBothCommitted();
    }

    /**
     * Two processes given the same node name (the default {@code local}, a copied configuration),
     * each with a log of its own: the other's recover() finds our prepared branches under our node
     * name, and must leave them alone rather than presume them aborted. So must a factory of that
     * name without a log. Fails when branches are matched by node name alone.
     */
    @Test
    void aCoordinatorOfTheSameNodeNameWithAnotherLogOrNoneLeavesOurPreparedBranchesAlone() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        shop.holdCommit = release;
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> transfer(transactions));
        try {
            await().atMost(java.time.Duration.ofSeconds(10)).until(() -> bankData.preparedRecordFiles().size() == 1
                    && shopData.preparedRecordFiles().size() == 1 && decisionFiles() == 1);
            for (TransactionFactory.Builder twin : List.of(
                    TransactionFactory.builder().nodeName("node-1").logDirectory(tmp.resolve("txlog-elsewhere")),
                    TransactionFactory.builder().nodeName("node-1"))) {
                try (TransactionFactory other = twin.build()) {
                    RecoveryResult theirs = other.recover(List.of(shop, bank));
                    assertThat(theirs.rolledBack()).as("presumed aborted by a namesake").isEmpty();
                    assertThat(theirs.committed()).isEmpty();
                    assertThat(theirs.failed()).isEmpty();
                }
            }
        } finally {
            release.countDown();
        }
        running.join();
        assertBothCommitted();
        assertThat(tmp.resolve("txlog").resolve("node-1" + CoordinatorLog.ID_SUFFIX)).isRegularFile();
    }

    /**
     * A branch whose id an earlier build wrote (node name, no coordinator identity) is still recovered
     * by its node's coordinator with a log, and left alone by one without (compatibility: this one
     * passes by node-name matching too).
     */
    @Test
    void aBranchOfAnIdWithoutACoordinatorIdentityIsRecoveredByItsNodeName() {
        byte[] prefix = "node-1/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] legacy = java.nio.ByteBuffer.allocate(prefix.length + 16).put(prefix).put(new byte[16]).array();
        TransactionId id = TransactionId.of(LocalTransactionFactory.FORMAT_ID, legacy, new byte[] {1});
        TransactionBranch branch = shop.begin(id);
        branch.store("Order", String.class).save("o1", "paid");
        branch.prepare();
        try (TransactionFactory other = TransactionFactory.builder().nodeName("node-2").logDirectory(tmp.resolve("txlog")).build()) {
            assertThat(other.recover(List.of(shop)).rolledBack()).as("another node's").isEmpty();
        }
        try (TransactionFactory withoutLog = TransactionFactory.builder().nodeName("node-1").build()) {
            assertThat(withoutLog.recover(List.of(shop)).rolledBack()).as("no decisions to judge it by").isEmpty();
        }
        assertThat(transactions.recover(List.of(shop)).rolledBack()).containsExactly(id);
        assertThat(shopData.preparedRecordFiles()).isEmpty();
        assertThat(shopData.store("Order", String.class).get("o1")).isEmpty();
    }

    /**
     * A lost identity file with the decisions of that identity still in the log is refused: a new
     * identity would skip their branches and forget the decisions, so a later recovery would presume
     * the committed transaction aborted.
     */
    @Test
    void aMissingCoordinatorIdentityWithItsDecisionsStillLoggedIsRefused() throws IOException {
        bank.failNextCommit = true;
        transfer(transactions); // committed at the shop; the bank's branch stays prepared, the decision stays
        transactions.close();
        Path log = tmp.resolve("txlog");
        java.nio.file.Files.delete(log.resolve("node-1" + CoordinatorLog.ID_SUFFIX));
        assertThatThrownBy(() -> TransactionFactory.builder().nodeName("node-1").logDirectory(log).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("node-1" + CoordinatorLog.ID_SUFFIX + " is missing").hasMessageContaining(CoordinatorLog.SUFFIX);
        assertThat(decisionFiles()).isEqualTo(1);
        transactions = TransactionFactory.builder().nodeName("node-2").logDirectory(log).build();
    }

    /** A damaged identity file is refused by name: a new identity would strand the branches the old one prepared. */
    @Test
    void aDamagedCoordinatorIdentityIsRefused() throws IOException {
        transactions.close();
        Path idFile = tmp.resolve("txlog").resolve("node-1" + CoordinatorLog.ID_SUFFIX);
        java.nio.file.Files.writeString(idFile, "reliablestore-coordinator-id 1\nnot hex\n");
        assertThatThrownBy(() -> TransactionFactory.builder().nodeName("node-1").logDirectory(tmp.resolve("txlog")).build())
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(idFile.toString()).hasMessageContaining("is damaged");
        transactions = TransactionFactory.builder().nodeName("node-2").logDirectory(tmp.resolve("txlog")).build();
    }
}
