package dev.reliablestore.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.TransactionOutcomeUnknownException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.TransactionStateException;
import dev.reliablestore.api.TransactionTimedOutException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class LocalTransactionTest {

    @TempDir
    Path tmp;

    FileParticipant shop;
    FileParticipant bank;
    TransactionFactory transactions;

    @BeforeEach
    void setUp() {
        shop = new FileParticipant(tmp.resolve("shop"));
        bank = new FileParticipant(tmp.resolve("bank"));
        transactions = TransactionFactory.builder().nodeName("test-node").logDirectory(tmp.resolve("txlog")).build();
    }

    @AfterEach
    void tearDown() {
        transactions.close();
    }

    private EntityStore<String> committed(FileParticipant p, String type) {
        return p.store(type, String.class);
    }

    @Test
    void savesAndDeletesAcrossEntityTypesCommitAtomically() {
        committed(shop, "Order").save("old", "to be deleted");
        try (Transaction tx = transactions.begin()) {
            EnlistedResource r = tx.enlist(shop);
            r.store("Customer", String.class).save("cust1", "Ann");
            r.store("Customer", String.class).save("cust2", "Bob");
            r.store("Order", String.class).save("order1", "2 apples");
            assertThat(r.store("Order", String.class).delete("old")).isTrue();
            // read-your-writes inside, nothing visible outside before commit
            assertThat(r.store("Customer", String.class).get("cust1")).map(Versioned::value).contains("Ann");
            assertThat(r.store("Order", String.class).get("old")).isEmpty();
            assertThat(committed(shop, "Customer").count()).isZero();
            assertThat(committed(shop, "Order").exists("old")).isTrue();
            tx.commit();
            assertThat(tx.status()).isEqualTo(TransactionStatus.COMMITTED);
        }
        assertThat(committed(shop, "Customer").getAll()).extracting(Versioned::value).containsExactly("Ann", "Bob");
        assertThat(committed(shop, "Order").getAll()).extracting(Versioned::id).containsExactly("order1");
        assertThat(shop.onePhaseCommitCount()).as("one participant: one-phase commit").isEqualTo(1);
        assertThat(shop.prepareCount()).isZero();
    }

    /** A finished transaction is not kept for the rest of its timeout (with its buffered writes) by its cancelled timer. */
    @Test
    void anEndedTransactionLeavesNoTimeoutTaskBehind() {
        for (int i = 0; i < 50; i++) {
            Transaction tx = transactions.begin(Duration.ofHours(1));
            tx.enlist(shop).store("Customer", String.class).save("c" + i, "x".repeat(1000));
            if (i % 2 == 0) {
                tx.commit();
            } else {
                tx.rollback();
            }
        }
        Transaction open = transactions.begin(Duration.ofHours(1));
        assertThat(((LocalTransactionFactory) transactions).pendingTimeouts()).isEqualTo(1);
        open.rollback();
        assertThat(((LocalTransactionFactory) transactions).pendingTimeouts()).isZero();
    }

    @Test
    void rollbackLeavesNothing() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Customer", String.class).save("cust1", "Ann");
        tx.enlist(bank).store("Account", String.class).save("acc1", "100");
        tx.rollback();
        assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(committed(shop, "Customer").count()).isZero();
        assertThat(committed(bank, "Account").count()).isZero();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        tx.rollback(); // a second rollback is a no-op
        assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
    }

    @Test
    void aVersionConflictAtCommitFailsTheWholeTransactionAndWritesNothing() {
        committed(bank, "Account").save("acc1", "100");
        Transaction tx = transactions.begin();
        EntityStore<String> accounts = tx.enlist(bank).store("Account", String.class);
        Versioned<String> seen = accounts.get("acc1").orElseThrow();
        accounts.save("acc1", "50", seen.version());
        tx.enlist(shop).store("Order", String.class).save("order1", "paid");
        committed(bank, "Account").save("acc1", "999"); // a concurrent writer wins

        assertThatThrownBy(tx::commit).isInstanceOf(TransactionRolledBackException.class)
                .hasMessageContaining("voted no")
                .hasRootCauseInstanceOf(ConcurrencyConflictException.class);
        assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(committed(bank, "Account").get("acc1")).map(Versioned::value).contains("999");
        assertThat(committed(shop, "Order").count()).isZero();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(bank.preparedRecordFiles()).isEmpty();
        assertThat(shop.isLocked("Order", "order1")).isFalse();
        assertThat(decisionFiles()).isEmpty();
    }

    @Test
    void twoWritersCommitInTwoPhasesThroughTheStateMachine() {
        List<TransactionStatus> seenAtPrepare = new CopyOnWriteArrayList<>();
        List<TransactionStatus> seenAtCommit = new CopyOnWriteArrayList<>();
        List<List<String>> logAtCommit = new CopyOnWriteArrayList<>();
        Transaction tx = transactions.begin();
        shop.onPrepare(() -> seenAtPrepare.add(tx.status()));
        shop.onCommit(() -> {
            seenAtCommit.add(tx.status());
            logAtCommit.add(List.of(decisionFiles()));
        });
        assertThat(tx.status()).isEqualTo(TransactionStatus.ACTIVE);
        tx.enlist(shop).store("Order", String.class).save("o1", "x");
        tx.enlist(bank).store("Account", String.class).save("a1", "y");
        tx.commit();
        assertThat(seenAtPrepare).containsExactly(TransactionStatus.PREPARING);
        assertThat(seenAtCommit).containsExactly(TransactionStatus.COMMITTING);
        assertThat(logAtCommit.get(0)).as("decision logged before phase two").hasSize(1).allMatch(n -> n.endsWith(".commit"));
        assertThat(decisionFiles()).as("decision removed after phase two").isEmpty();
        assertThat(tx.status()).isEqualTo(TransactionStatus.COMMITTED);
        assertThat(shop.prepareCount()).isEqualTo(1);
        assertThat(bank.prepareCount()).isEqualTo(1);
        assertThat(committed(shop, "Order").get("o1")).map(Versioned::value).contains("x");
        assertThat(committed(bank, "Account").get("a1")).map(Versioned::value).contains("y");
    }

    @Test
    void illegalTransitionsGiveClearErrors() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o1", "x");
        tx.commit();
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("cannot commit").hasMessageContaining("COMMITTED");
        assertThatThrownBy(tx::rollback).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("cannot roll back").hasMessageContaining("COMMITTED");
        assertThatThrownBy(() -> tx.enlist(bank)).isInstanceOf(TransactionStateException.class);
        assertThatThrownBy(() -> tx.savepoint("s")).isInstanceOf(TransactionStateException.class);
        tx.close(); // no-op on a committed transaction
        assertThat(tx.status()).isEqualTo(TransactionStatus.COMMITTED);

        Transaction rolledBack = transactions.begin();
        rolledBack.rollback();
        assertThatThrownBy(rolledBack::commit).isInstanceOf(TransactionStateException.class)
                .satisfies(e -> assertThat(((TransactionStateException) e).statusName()).isEqualTo("ROLLED_BACK"));
    }

    @Test
    void aResourceEnlistedTwiceIsRefused() {
        try (Transaction tx = transactions.begin()) {
            tx.enlist(shop);
            assertThatThrownBy(() -> tx.enlist(shop)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("already enlisted").hasMessageContaining(shop.resourceManagerId());
        }
    }

    @Test
    void closingAnUncommittedTransactionRollsItBack() {
        Transaction leaked;
        EntityStore<String> view;
        try (Transaction tx = transactions.begin()) {
            leaked = tx;
            view = tx.enlist(shop).store("Order", String.class);
            view.save("o1", "x");
        }
        assertThat(leaked.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(committed(shop, "Order").count()).isZero();
        assertThatThrownBy(() -> view.get("o1")).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("ROLLED_BACK");
    }

    @Test
    void twoWritersWithoutACoordinatorLogAreRefusedAndRolledBack() {
        try (TransactionFactory noLog = TransactionFactory.builder().build()) {
            Transaction tx = noLog.begin();
            tx.enlist(shop).store("Order", String.class).save("o1", "x");
            tx.enlist(bank).store("Account", String.class).save("a1", "y");
            assertThatThrownBy(tx::commit).isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("coordinator log").hasMessageContaining("2 participants");
            assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
            assertThat(committed(shop, "Order").count()).isZero();

            // one writer and one reader need no log: the reader is finished read-only, the writer commits in one phase
            Transaction ok = noLog.begin();
            ok.enlist(shop).store("Order", String.class).save("o2", "x");
            ok.enlist(bank).store("Account", String.class).get("a1");
            ok.commit();
            assertThat(committed(shop, "Order").exists("o2")).isTrue();
            assertThat(shop.onePhaseCommitCount()).isEqualTo(1);
            assertThat(bank.prepareCount()).isZero();
        }
    }

    @Test
    void aTimeoutRollsBack() {
        Transaction tx = transactions.begin(Duration.ofMillis(200));
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        orders.save("o1", "x");
        List<TransactionStatus> completions = new CopyOnWriteArrayList<>();
        tx.onCompletion(completions::add);
        await().atMost(Duration.ofSeconds(10)).until(() -> tx.status() == TransactionStatus.TIMED_OUT);
        assertThat(completions).containsExactly(TransactionStatus.TIMED_OUT);
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionTimedOutException.class).hasMessageContaining("timed out");
        assertThatThrownBy(() -> orders.save("o2", "y")).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("TIMED_OUT");
        tx.rollback(); // no-op
        assertThat(committed(shop, "Order").count()).isZero();
        assertThatThrownBy(() -> transactions.begin(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 ms .. 24 h");
    }

    @Test
    void savepointsUndoLaterWorkAndDiscardLaterSavepoints() {
        Transaction tx = transactions.begin();
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        orders.save("a", "1");
        tx.savepoint("s1");
        orders.save("b", "2");
        orders.save("a", "1-changed");
        tx.savepoint("s2");
        orders.save("c", "3");
        EntityStore<String> accounts = tx.enlist(bank).store("Account", String.class); // enlisted after s1
        accounts.save("acc", "5");
        assertThatThrownBy(() -> tx.savepoint("s1")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already");

        tx.rollbackToSavepoint("s1");
        assertThat(orders.getAll()).extracting(Versioned::id, Versioned::value).containsExactly(org.assertj.core.groups.Tuple.tuple("a", "1"));
        assertThat(accounts.count()).isZero();
        assertThatThrownBy(() -> tx.rollbackToSavepoint("s2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no savepoint named \"s2\"");
        orders.save("d", "4");
        tx.rollbackToSavepoint("s1"); // the savepoint itself stays
        tx.releaseSavepoint("s1");
        assertThatThrownBy(() -> tx.rollbackToSavepoint("s1")).isInstanceOf(IllegalArgumentException.class);
        orders.save("e", "5");
        tx.commit();
        assertThat(committed(shop, "Order").getAll()).extracting(Versioned::id).containsExactly("a", "e");
        assertThat(committed(bank, "Account").count()).isZero();
    }

    @Test
    void completionCallbacksRunOnceInOrderAndAFailingOneDoesNotStopTheOthers() {
        List<String> calls = new ArrayList<>();
        Transaction tx = transactions.begin();
        tx.onCompletion(s -> calls.add("first:" + s));
        tx.onCompletion(s -> {
            throw new IllegalStateException("callback bug");
        });
        tx.onCompletion(s -> calls.add("third:" + s));
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.commit();
        assertThat(calls).containsExactly("first:COMMITTED", "third:COMMITTED");
        assertThatThrownBy(() -> tx.onCompletion(s -> { })).isInstanceOf(TransactionStateException.class);

        List<TransactionStatus> rb = new ArrayList<>();
        Transaction tx2 = transactions.begin();
        tx2.onCompletion(rb::add);
        tx2.rollback();
        tx2.rollback();
        assertThat(rb).containsExactly(TransactionStatus.ROLLED_BACK);
    }

    @Test
    void rollbackOnlyMakesCommitRollBack() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.setRollbackOnly();
        assertThat(tx.isRollbackOnly()).isTrue();
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionRolledBackException.class).hasMessageContaining("rollback-only");
        assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(committed(shop, "Order").count()).isZero();
    }

    @Test
    void aParticipantThatCannotPrepareRollsBackTheOthers() {
        bank.failNextPrepare(new StoreUnavailableException("disk full"));
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionRolledBackException.class)
                .hasMessageContaining("disk full")
                .satisfies(e -> assertThat(((TransactionRolledBackException) e).isRetryable()).isTrue());
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(bank.preparedRecordFiles()).isEmpty();
        assertThat(committed(shop, "Order").count()).isZero();
        assertThat(shop.isLocked("Order", "o")).isFalse();
    }

    @Test
    void aPhaseTwoFailureKeepsTheDecisionAndRecoveryFinishesIt() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        bank.onCommit(() -> bank.unavailable(true));
        tx.commit(); // the decision is commit; the bank could not apply it yet
        assertThat(tx.status()).isEqualTo(TransactionStatus.COMMITTED);
        assertThat(committed(shop, "Order").exists("o")).isTrue();
        assertThat(decisionFiles()).hasSize(1);
        assertThat(bank.preparedRecordFiles()).hasSize(1);
        assertThat(bank.isLocked("Account", "a")).isTrue();

        bank.onCommit(() -> { });
        bank.unavailable(false);
        RecoveryResult result = transactions.recover(List.of(shop, bank));
        assertThat(result.committed()).hasSize(1);
        assertThat(result.rolledBack()).isEmpty();
        assertThat(result.pendingDecisions()).isEmpty();
        assertThat(committed(bank, "Account").get("a")).map(Versioned::value).contains("y");
        assertThat(bank.preparedRecordFiles()).isEmpty();
        assertThat(decisionFiles()).isEmpty();
    }

    /**
     * A participant that applied its part and then failed (its audit record could not be written):
     * the transaction is committed, nothing is left for recover(), and commit() says what failed
     * after the commit, never retryable. It ended with a warning that the participant "could not
     * apply it yet" and a decision kept in the log for a branch that was already applied.
     */
    @Test
    void aParticipantThatFailsAfterApplyingItsPartLeavesACommittedTransactionAndSaysSo() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        commitFailingAfterTheBankAppliedItsPart(tx);
        assertThat(committed(shop, "Order").exists("o")).isTrue();
        assertThat(committed(bank, "Account").get("a")).map(Versioned::value).contains("y");
        assertThat(bank.preparedRecordFiles()).isEmpty();
        assertThat(decisionFiles()).as("every branch is applied").isEmpty();
        assertThat(transactions.recover(List.of(shop, bank)).isClean()).isTrue();
    }

    /** Commits {@code tx} with {@link #bank} failing after it applied its part: committed, and it says so. */
    private void commitFailingAfterTheBankAppliedItsPart(Transaction tx) {
        bank.failNextAfterCommit(new PersistenceException("the operation was committed, but its audit record could not be"
                + " written (injected)", null, true));
        assertThatThrownBy(tx::commit).isInstanceOfSatisfying(PersistenceException.class, e -> {
            assertThat(e.outcomeUnknown()).isTrue();
            assertThat(RetryPolicy.defaults().isRetryable(e)).isFalse();
        }).hasMessageContaining("is committed, but " + bank.resourceManagerId() + " failed after applying its part")
                .hasMessageContaining("audit record could not be written (injected)");
        assertThat(tx.status()).isEqualTo(TransactionStatus.COMMITTED);
    }

    /** The same for a lone participant committed in one phase: committed, not "may or may not have applied". */
    @Test
    void aLoneParticipantThatFailsAfterItsOnePhaseCommitLeavesACommittedTransactionAndSaysSo() {
        Transaction tx = transactions.begin();
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        commitFailingAfterTheBankAppliedItsPart(tx);
        assertThat(committed(bank, "Account").get("a")).map(Versioned::value).contains("y");
        assertThat(decisionFiles()).isEmpty();
        assertThat(transactions.recover(List.of(bank)).isClean()).isTrue();
    }

    /**
     * A prepared participant whose rollback removed its record and then failed (its audit record)
     * is rolled back: the transaction that voted no ends ROLLED_BACK with that failure noted, not
     * FAILED with an unknown outcome; so is a participant whose failed prepare rolled back so.
     */
    @Test
    void aParticipantThatFailsAfterRollingBackLeavesARolledBackTransaction() {
        Transaction tx = transactions.begin();
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        shop.failNextPrepare(new StoreUnavailableException("disk full"));
        PersistenceException shopUnaudited = new PersistenceException("the rollback took effect, but its audit record could not"
                + " be written (injected)", null, true);
        shop.failNextAfterRollback(shopUnaudited);
        PersistenceException bankUnaudited = new PersistenceException("the rollback took effect, but its audit record could not"
                + " be written (injected)", null, true);
        bank.failNextAfterRollback(bankUnaudited);
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionRolledBackException.class).hasMessageContaining("disk full")
                .satisfies(e -> assertThat(e.getSuppressed()).contains(bankUnaudited))
                .cause().as("the shop's vote").isInstanceOf(TransactionRolledBackException.class)
                .satisfies(vote -> assertThat(vote.getSuppressed()).contains(shopUnaudited));
        assertThat(tx.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(bank.preparedRecordFiles()).isEmpty();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(bank.isLocked("Account", "a")).isFalse();
        assertThat(committed(bank, "Account").exists("a")).isFalse();
    }

    @Test
    void recoveryLeavesTransactionsStillRunningInThisFactoryAlone() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        List<RecoveryResult> duringPrepare = new ArrayList<>();
        // when the bank prepares, the shop's branch is already prepared and no decision exists yet
        bank.onPrepare(() -> duringPrepare.add(transactions.recover(List.of(shop, bank))));
        tx.commit();
        assertThat(duringPrepare).singleElement().satisfies(r -> {
            assertThat(r.rolledBack()).isEmpty();
            assertThat(r.committed()).isEmpty();
        });
        assertThat(committed(shop, "Order").exists("o")).isTrue();
        assertThat(committed(bank, "Account").exists("a")).isTrue();
    }

    @Test
    void transactionsStartedByExecuteCommitOrRollBack() throws Exception {
        String result = transactions.execute(tx -> {
            assertThat(transactions.current()).containsSame(tx);
            tx.enlist(shop).store("Order", String.class).save("o1", "x");
            return "done";
        });
        assertThat(result).isEqualTo("done");
        assertThat(transactions.current()).isEmpty();
        assertThat(committed(shop, "Order").exists("o1")).isTrue();

        java.io.IOException boom = new java.io.IOException("boom");
        List<TransactionStatus> outcome = new ArrayList<>();
        assertThatThrownBy(() -> transactions.execute(tx -> {
            tx.onCompletion(outcome::add);
            tx.enlist(shop).store("Order", String.class).save("o2", "y");
            throw boom;
        })).isSameAs(boom);
        assertThat(outcome).containsExactly(TransactionStatus.ROLLED_BACK);
        assertThat(committed(shop, "Order").exists("o2")).isFalse();
    }

    @Test
    void nestedExecuteJoinsTheAmbientTransactionAndItsFailureDoomsIt() {
        IllegalStateException inner = new IllegalStateException("inner failure");
        assertThatThrownBy(() -> transactions.execute(outer -> {
            EntityStore<String> orders = outer.enlist(shop).store("Order", String.class);
            orders.save("o1", "x");
            transactions.execute(joined -> {
                assertThat(joined).isSameAs(outer);
                orders.save("o2", "y");
                return null;
            });
            try {
                transactions.execute(joined -> {
                    throw inner;
                });
            } catch (IllegalStateException swallowed) {
                assertThat(swallowed).isSameAs(inner);
            }
            assertThat(outer.isRollbackOnly()).isTrue();
            return null;
        })).isInstanceOf(TransactionRolledBackException.class).hasMessageContaining("rollback-only");
        assertThat(committed(shop, "Order").count()).isZero();
        assertThatThrownBy(() -> transactions.execute(tx -> transactions.execute(RetryPolicy.defaults(), t -> null)))
                .isInstanceOf(TransactionStateException.class).hasMessageContaining("cannot retry");
    }

    @Test
    void aFailingRollbackInExecuteIsAttachedAsSuppressed() {
        FailingRollbackResource failing = new FailingRollbackResource(shop);
        RuntimeException work = new RuntimeException("work failed");
        assertThatThrownBy(() -> transactions.execute(tx -> {
            tx.enlist(failing).store("Order", String.class).save("o", "x");
            throw work;
        })).isSameAs(work).satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                .isInstanceOf(TransactionOutcomeUnknownException.class)
                .satisfies(s -> assertThat(s.getCause()).hasMessageContaining("rollback refused")));
    }

    @Test
    void executeWithRetryRerunsTheWholeTransactionAfterAConflictWhenAskedTo() throws Exception {
        committed(bank, "Account").save("acc", "10");
        int[] attempts = {0};
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).initialBackoff(Duration.ZERO).maxBackoff(Duration.ZERO)
                .retryConflicts(true).build();
        transactions.execute(retry, tx -> {
            attempts[0]++;
            EntityStore<String> accounts = tx.enlist(bank).store("Account", String.class);
            Versioned<String> acc = accounts.get("acc").orElseThrow();
            if (attempts[0] == 1) {
                committed(bank, "Account").save("acc", "20"); // someone else changes it meanwhile
            }
            accounts.save("acc", String.valueOf(Integer.parseInt(acc.value()) + 1), acc.version());
            return null;
        });
        assertThat(attempts[0]).isEqualTo(2);
        assertThat(committed(bank, "Account").get("acc")).map(Versioned::value).contains("21");
    }

    @Test
    void viewsCheckExpectedVersionsAgainstWhatTheTransactionSees() {
        committed(shop, "Order").save("o", "v1");
        Transaction tx = transactions.begin();
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        assertThat(orders.save("o", "v2", 1)).isEqualTo(2);
        assertThat(orders.save("o", "v3", 2)).as("version the transaction's own write will have").isEqualTo(2);
        assertThatThrownBy(() -> orders.save("o", "v4", 1)).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("as seen by transaction");
        assertThat(orders.saveBatch(Map.of("n1", "a"))).containsEntry("n1", 1L);
        assertThat(orders.count()).isEqualTo(2);
        assertThat(orders.clear()).isEqualTo(2);
        assertThat(orders.getAll()).isEmpty();
        assertThatThrownBy(() -> tx.enlist(bank).store("Account", Integer.class)).isInstanceOf(IllegalArgumentException.class);
        tx.commit();
        assertThat(committed(shop, "Order").count()).isZero();
    }

    /**
     * A batch inside a transaction is all or nothing, as outside one: an entry whose committed
     * version cannot be read fails the batch, and the entries before it are not buffered, so a
     * caller that goes on and commits does not commit half of it.
     */
    @Test
    void aBatchThatFailsPartWayBuffersNoneOfItsEntries() throws Exception {
        committed(shop, "Order").save("seed", "s");
        String unreadable = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString("b".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        java.nio.file.Files.createDirectories(tmp.resolve("shop").resolve("data").resolve("Order").resolve(unreadable));
        Transaction tx = transactions.begin();
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        Map<String, String> batch = new java.util.LinkedHashMap<>();
        batch.put("a", "first");
        batch.put("b", "second");
        assertThatThrownBy(() -> orders.saveBatch(batch)).as("b's committed version cannot be read").isInstanceOf(RuntimeException.class);
        assertThat(orders.get("a")).as("a was not buffered").isEmpty();
        tx.commit();
        assertThat(committed(shop, "Order").get("a")).isEmpty();
    }

    /**
     * A "no" vote after another participant prepared, whose rollback then fails (its registry is
     * unreachable): that branch stays prepared, holding its locks, so the caller must not be told the
     * transaction rolled back; recover() rolls it back. Fails when commit() reports ROLLED_BACK.
     */
    @Test
    void aPreparedBranchThatCannotRollBackAfterANoVoteLeavesTheOutcomeUnknownUntilRecoveryRollsItBack() {
        committed(bank, "Account").save("a", "1");
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x"); // enlisted first: prepares first
        tx.enlist(bank).store("Account", String.class).save("a", "2", 1);
        committed(bank, "Account").save("a", "concurrent"); // the bank votes no
        shop.onRollback(() -> {
            throw new StoreUnavailableException("shop registry unreachable");
        });
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionOutcomeUnknownException.class)
                .hasMessageContaining(bank.resourceManagerId() + " voted no: version conflict on Account/a")
                .hasMessageContaining("rollback failed at " + shop.resourceManagerId())
                .hasMessageContaining("nothing was committed").hasMessageContaining("TransactionFactory.recover() rolls it back")
                .satisfies(e -> assertThat(e.getMessage().split(Pattern.quote("transaction " + tx.id()), -1))
                        .as("names the transaction once: " + e.getMessage()).hasSize(2))
                .satisfies(e -> assertThat(e.getCause()).hasMessageContaining("shop registry unreachable"))
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().as("the vote")
                        .satisfies(vote -> assertThat(vote).hasRootCauseInstanceOf(ConcurrencyConflictException.class)));
        assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
        assertThat(shop.preparedRecordFiles()).hasSize(1);
        assertThat(shop.isLocked("Order", "o")).isTrue();

        shop.onRollback(() -> { });
        RecoveryResult recovered = transactions.recover(List.of(shop, bank));
        assertThat(recovered.rolledBack()).hasSize(1);
        assertThat(recovered.committed()).isEmpty();
        assertThat(recovered.isClean()).isTrue();
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(shop.isLocked("Order", "o")).isFalse();
        assertThat(committed(shop, "Order").count()).isZero();
        assertThat(committed(bank, "Account").get("a")).map(Versioned::value).contains("concurrent");
    }

    /**
     * A prepare that fails (not a vote) and leaves its branch prepared, then rollbacks that fail:
     * the shop's branch stays prepared. Fails when commit() reports ROLLED_BACK.
     */
    @Test
    void aFailedPrepareFollowedByAFailedRollbackLeavesTheOutcomeUnknown() {
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        bank.failNextPrepare(new StoreUnavailableException("disk full"));
        bank.onRollback(() -> {
            throw new StoreUnavailableException("bank registry unreachable"); // the bank's branch stays prepared, in doubt
        });
        shop.onRollback(() -> {
            throw new StoreUnavailableException("shop registry unreachable");
        });
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionOutcomeUnknownException.class)
                .hasMessageContaining("prepare failed at " + bank.resourceManagerId()).hasMessageContaining("disk full")
                .hasMessageContaining("rollback failed at " + shop.resourceManagerId() + ", " + bank.resourceManagerId())
                .hasMessageContaining("TransactionFactory.recover() rolls it back");
        assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
        assertThat(shop.isLocked("Order", "o")).isTrue();

        shop.onRollback(() -> { });
        bank.onRollback(() -> { });
        assertThat(transactions.recover(List.of(shop, bank)).rolledBack()).hasSize(1);
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(committed(shop, "Order").count()).isZero();
        assertThat(committed(bank, "Account").count()).isZero();
    }

    /**
     * The decision cannot be written (before its rename, so it never took effect) and the shop's
     * prepared branch cannot roll back. Fails when commit() reports ROLLED_BACK.
     */
    @Test
    void aDecisionThatCannotBeWrittenFollowedByAFailedRollbackLeavesTheOutcomeUnknown() throws Exception {
        Path[] blocker = new Path[1];
        bank.onPrepare(() -> { // the shop has prepared: its branch gives the transaction's token
            TransactionId branch = shop.recover().get(0);
            blocker[0] = tmp.resolve("txlog").resolve(LocalTransactionFactory.globalToken(branch) + ".tmp");
            try {
                Files.createDirectory(blocker[0]); // the decision's temporary file cannot be created
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        shop.onRollback(() -> {
            throw new StoreUnavailableException("shop registry unreachable");
        });
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionOutcomeUnknownException.class)
                .hasMessageContaining("could not be written to the coordinator log")
                .hasMessageContaining("rollback failed at " + shop.resourceManagerId())
                .hasMessageContaining("TransactionFactory.recover() rolls it back");
        assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
        assertThat(decisionFiles()).isEmpty();
        assertThat(bank.preparedRecordFiles()).as("rolled back").isEmpty();
        assertThat(shop.preparedRecordFiles()).hasSize(1);

        Files.delete(blocker[0]);
        shop.onRollback(() -> { });
        assertThat(transactions.recover(List.of(shop, bank)).rolledBack()).hasSize(1);
        assertThat(shop.preparedRecordFiles()).isEmpty();
        assertThat(committed(shop, "Order").count()).isZero();
        assertThat(committed(bank, "Account").count()).isZero();
    }

    /**
     * A branch that never prepared and cannot roll back, as commit() of a rollback-only transaction
     * rolls back: reported as rollback() reports it (docs: a failed rollback is FAILED). Fails when
     * commit() reports ROLLED_BACK.
     */
    @Test
    void aBranchThatCannotRollBackWhenARollbackOnlyTransactionCommitsLeavesTheOutcomeUnknown() {
        Transaction tx = transactions.begin();
        tx.enlist(new FailingRollbackResource(shop)).store("Order", String.class).save("o", "x");
        tx.setRollbackOnly();
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionOutcomeUnknownException.class)
                .hasMessageContaining("marked rollback-only").hasMessageContaining("rollback failed at failing-rollback")
                .satisfies(e -> assertThat(e.getCause()).hasMessageContaining("rollback refused"));
        assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
    }

    /**
     * The same when the commit, not the timer, finds the deadline passed. Fails when commit()
     * reports TIMED_OUT (it dropped the rollback failure).
     */
    @Test
    void aBranchThatCannotRollBackWhenACommitFindsItsDeadlinePassedLeavesTheOutcomeUnknown() {
        CountDownLatch timer = holdTimer();
        try {
            Transaction tx = transactions.begin(Duration.ofMillis(1));
            tx.enlist(new FailingRollbackResource(shop)).store("Order", String.class).save("o", "x");
            await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(tx.deadline()));
            assertThatThrownBy(tx::commit).isInstanceOf(TransactionOutcomeUnknownException.class)
                    .hasMessageContaining("its timeout of PT0.001S passed")
                    .hasMessageContaining("rollback failed at failing-rollback");
            assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
        } finally {
            timer.countDown();
        }
    }

    /**
     * close() stops the timer: a transaction still running is not rolled back at its deadline and
     * keeps working, but the deadline still holds at commit, as it would have had the factory stayed
     * open (docs: close()).
     */
    @Test
    void afterCloseNoTimerRollsATransactionBackButItsCommitAfterTheDeadlineStillDoes() {
        holdTimer(); // until close() stops it
        Transaction tx = transactions.begin(Duration.ofMillis(1)); // its timeout waits behind the held timer
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        orders.save("o1", "x");
        transactions.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(tx.deadline()));
        assertThat(tx.status()).as("rolled back by no timer").isEqualTo(TransactionStatus.ACTIVE);
        orders.save("o2", "y");
        assertThatThrownBy(tx::commit).isInstanceOf(TransactionTimedOutException.class).hasMessageContaining("timed out");
        assertThat(tx.status()).isEqualTo(TransactionStatus.TIMED_OUT);
        assertThat(committed(shop, "Order").count()).isZero();
    }

    /**
     * close() may stop the timer between begin()'s open check and its scheduling of the timeout: the
     * timer rejects the task. begin() then returns a transaction without a timer task, as it does once
     * close() has stopped the timer, instead of failing with the transaction left live and the node's
     * lock held for ever (a new factory of the node, e.g. after a hot redeploy, was refused).
     */
    @Test
    void aCloseRacingWithBeginLeavesNoLiveTransactionAndReleasesTheNodesLock() {
        Path log = tmp.resolve("race-log");
        LocalTransactionFactory[] racing = new LocalTransactionFactory[1];
        LocalTransactionFactory.BuilderImpl builder = new LocalTransactionFactory.BuilderImpl();
        builder.nodeName("race").logDirectory(log);
        racing[0] = builder.build(threads -> new ScheduledThreadPoolExecutor(1, threads) {
            @Override
            public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
                racing[0].close(); // close() runs between begin()'s open check and its scheduling
                return super.schedule(task, delay, unit);
            }
        });
        Transaction tx = racing[0].begin(Duration.ofHours(1));
        tx.enlist(shop).store("Order", String.class).save("o1", "x");
        tx.commit(); // it began before close(), so it works: close() rolls nothing back
        assertThat(committed(shop, "Order").exists("o1")).isTrue();
        assertThatThrownBy(racing[0]::begin).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        TransactionFactory next = TransactionFactory.builder().nodeName("race").logDirectory(log).build();
        next.close(); // the node's lock was released once nothing of the closed factory was live
    }

    /**
     * Keeps the factory's timeout timer (one thread) busy until the returned latch is counted down
     * or close() stops the timer, so that no timeout runs meanwhile.
     */
    private CountDownLatch holdTimer() {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ((LocalTransactionFactory) transactions).schedule(() -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            }
        }, Duration.ZERO);
        await().atMost(Duration.ofSeconds(10)).until(() -> busy.getCount() == 0);
        return release;
    }

    /** The coordinator log's decision files (the log directory also holds the node's lock file). */
    private String[] decisionFiles() {
        return tmp.resolve("txlog").toFile().list((d, name) -> name.endsWith(CoordinatorLog.SUFFIX));
    }
}
