package dev.reliablestore.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.TransactionStateException;
import dev.reliablestore.api.TransactionTimedOutException;
import dev.reliablestore.tx.testing.FileParticipant;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What a user reads: every message names the transaction once, by the id they hold
 * ({@link Transaction#id()}), never by a participant's branch id too; and a state is named for what
 * it is (a timed-out transaction says it timed out, never that something "is closed").
 */
class TransactionMessagesTest {

    @TempDir
    Path tmp;

    FileParticipant shop;
    FileParticipant bank;
    TransactionFactory transactions;

    @BeforeEach
    void setUp() {
        shop = new FileParticipant(tmp.resolve("shop"));
        bank = new FileParticipant(tmp.resolve("bank"));
        transactions = TransactionFactory.builder().nodeName("app-1").logDirectory(tmp.resolve("txlog")).build();
    }

    @AfterEach
    void tearDown() {
        transactions.close();
    }

    /** The message names this transaction, by its id, exactly once, and no branch id. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertNamesOnly(Transaction tx, Executable call) {
        Throwable thrown = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, call);
        if (thrown instanceof ExecutionException e) {
            thrown = e.getCause();
        }
        String message = thrown.getMessage();
        assertThat(message).as(message).contains("transaction " + tx.id()).doesNotContain("TransactionId[");
        assertThat(message.split(java.util.regex.Pattern.quote(tx.id()), -1)).as("one mention of the id: " + message).hasSize(2);
        return assertThat(thrown);
    }

    @Test
    void aNoVoteInTwoPhaseCommitNamesTheTransactionOnceAndSaysWhy() {
        bank.store("Account", String.class).save("a", "1");
        Transaction tx = transactions.begin();
        tx.enlist(bank).store("Account", String.class).save("a", "2", 1);
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        bank.store("Account", String.class).save("a", "concurrent");
        assertNamesOnly(tx, tx::commit).isInstanceOf(TransactionRolledBackException.class)
                .hasMessageContaining(bank.resourceManagerId() + " voted no: version conflict on Account/a")
                .hasRootCauseInstanceOf(ConcurrencyConflictException.class);
    }

    @Test
    void aRefusedOnePhaseCommitNamesTheTransactionOnceAndSaysWhy() {
        bank.store("Account", String.class).save("a", "1");
        Transaction tx = transactions.begin();
        tx.enlist(bank).store("Account", String.class).save("a", "2", 1);
        bank.store("Account", String.class).save("a", "concurrent");
        assertNamesOnly(tx, tx::commit).isInstanceOf(TransactionRolledBackException.class)
                .hasMessageContaining(bank.resourceManagerId() + " could not commit it: version conflict on Account/a");
    }

    @Test
    void aFailedPrepareNamesTheTransactionOnce() {
        bank.failNextPrepare(new StoreUnavailableException("disk full"));
        Transaction tx = transactions.begin();
        tx.enlist(shop).store("Order", String.class).save("o", "x");
        tx.enlist(bank).store("Account", String.class).save("a", "y");
        assertNamesOnly(tx, tx::commit).isInstanceOf(TransactionRolledBackException.class).hasMessageContaining("disk full");
    }

    @Test
    void aConflictInsideTheTransactionIsSeenByTheTransaction() {
        bank.store("Account", String.class).save("a", "1");
        Transaction tx = transactions.begin();
        EntityStore<String> accounts = tx.enlist(bank).store("Account", String.class);
        assertNamesOnly(tx, () -> accounts.save("a", "2", 7)).isInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContaining("as seen by transaction " + tx.id());
    }

    @Test
    void aTimedOutTransactionSaysItTimedOutEverywhere() {
        Transaction tx = transactions.begin(Duration.ofMillis(100));
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        orders.save("o", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> tx.status() == TransactionStatus.TIMED_OUT);

        for (Executable call : new Executable[] {
                () -> orders.save("p", "y"), () -> orders.get("o"), () -> orders.saveAsync("p", "y").get(),
                () -> tx.enlist(bank), () -> tx.savepoint("s"), () -> tx.onCompletion(s -> { })}) {
            assertNamesOnly(tx, call).isInstanceOf(TransactionStateException.class)
                    .hasMessageContaining("it is TIMED_OUT: its timeout of PT0.1S passed")
                    .hasMessageContaining("rolled back")
                    .message().doesNotContain("ROLLED_BACK").doesNotContain("closed");
        }
        assertNamesOnly(tx, tx::commit).isInstanceOf(TransactionTimedOutException.class)
                .hasMessageContaining("timed out (timeout PT0.1S");
    }

    @Test
    void stateErrorsNameTheStatus() {
        Transaction committed = transactions.begin();
        EntityStore<String> orders = committed.enlist(shop).store("Order", String.class);
        committed.commit();
        assertNamesOnly(committed, committed::commit).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("cannot commit").hasMessageContaining("it is COMMITTED");
        assertNamesOnly(committed, () -> orders.get("o")).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("cannot get in the store Order").hasMessageContaining("it is COMMITTED");

        Transaction rolledBack = transactions.begin();
        rolledBack.rollback();
        assertThatThrownBy(rolledBack::commit).isInstanceOf(TransactionStateException.class)
                .hasMessageContaining("it is ROLLED_BACK")
                .satisfies(e -> assertThat(((TransactionStateException) e).statusName()).isEqualTo("ROLLED_BACK"));
    }
}
