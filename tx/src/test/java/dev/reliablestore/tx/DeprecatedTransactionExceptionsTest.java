package dev.reliablestore.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.Vote;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The transaction exceptions moved to {@code dev.reliablestore.api}; for one release the old types
 * stay as deprecated subclasses and are what is thrown, so a {@code catch} written against either
 * the old or the new type sees the same failures. A participant voting "no" with the new type is
 * understood as a "no" vote.
 */
@SuppressWarnings("removal")
class DeprecatedTransactionExceptionsTest {

    @TempDir
    Path tmp;

    FileParticipant shop;
    FileParticipant bank;
    TransactionFactory transactions;

    @BeforeEach
    void setUp() {
        shop = new FileParticipant(tmp.resolve("shop"));
        bank = new FileParticipant(tmp.resolve("bank"));
        transactions = TransactionFactory.builder().nodeName("compat").logDirectory(tmp.resolve("txlog")).build();
    }

    @AfterEach
    void tearDown() {
        transactions.close();
    }

    @Test
    void aNoVoteIsCaughtByTheOldAndTheNewType() {
        shop.store("Order", String.class).save("o", "v1");
        Transaction tx = transactions.begin();
        EntityStore<String> orders = tx.enlist(shop).store("Order", String.class);
        orders.save("o", "v2", 1);
        tx.enlist(bank).store("Account", String.class).save("a", "1");
        shop.store("Order", String.class).save("o", "concurrent");
        RuntimeException thrown = null;
        try {
            tx.commit();
        } catch (dev.reliablestore.spi.tx.TransactionRolledBackException old) {
            thrown = old;
        }
        assertThat(thrown).isInstanceOf(TransactionRolledBackException.class);
    }

    @Test
    void aTimeoutIsCaughtByAllFourTypes() {
        Transaction tx = transactions.begin(Duration.ofMillis(50));
        await().atMost(Duration.ofSeconds(10)).until(() -> tx.status() == TransactionStatus.TIMED_OUT);
        RuntimeException thrown = null;
        try {
            tx.commit();
        } catch (dev.reliablestore.tx.TransactionTimedOutException old) {
            thrown = old;
            assertThat(old.transactionId()).as("the deprecated type still carries the global id").isNotNull();
        }
        assertThat(thrown).isInstanceOf(dev.reliablestore.api.TransactionTimedOutException.class)
                .isInstanceOf(dev.reliablestore.spi.tx.TransactionRolledBackException.class)
                .isInstanceOf(TransactionRolledBackException.class);
    }

    @Test
    void aStateErrorIsCaughtByTheOldTypeWithItsTypedStatus() {
        Transaction tx = transactions.begin();
        tx.rollback();
        TransactionStatus seen = null;
        try {
            tx.commit();
        } catch (dev.reliablestore.tx.TransactionStateException old) {
            seen = old.status();
            assertThat(old).isInstanceOf(dev.reliablestore.api.TransactionStateException.class);
            assertThat(old.statusName()).isEqualTo("ROLLED_BACK");
        }
        assertThat(seen).isEqualTo(TransactionStatus.ROLLED_BACK);
    }

    @Test
    void anUnknownOutcomeIsCaughtByTheOldType() {
        Transaction tx = transactions.begin();
        tx.enlist(new FailingRollbackResource(shop)).store("Order", String.class).save("o", "x");
        RuntimeException thrown = null;
        try {
            tx.rollback();
        } catch (dev.reliablestore.tx.TransactionOutcomeUnknownException old) {
            thrown = old;
        }
        assertThat(thrown).isInstanceOf(dev.reliablestore.api.TransactionOutcomeUnknownException.class);
        assertThat(tx.status()).isEqualTo(TransactionStatus.FAILED);
    }

    @Test
    void aParticipantVotingNoWithTheNewTypeIsANoVote() {
        Transaction twoPhase = transactions.begin();
        twoPhase.enlist(new VotesNo(shop)).store("Order", String.class).save("o", "x");
        twoPhase.enlist(bank).store("Account", String.class).save("a", "y");
        RuntimeException thrown = null;
        try {
            twoPhase.commit();
        } catch (TransactionRolledBackException e) {
            thrown = e;
        }
        assertThat(thrown).hasMessageContaining("voted no").hasMessageContaining("over the credit limit");
        assertThat(twoPhase.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(bank.preparedRecordFiles()).isEmpty();

        Transaction onePhase = transactions.begin();
        onePhase.enlist(new VotesNo(shop)).store("Order", String.class).save("o", "x");
        thrown = null;
        try {
            onePhase.commit();
        } catch (TransactionRolledBackException e) {
            thrown = e;
        }
        assertThat(thrown).as("rolled back, not an unknown outcome").hasMessageContaining("over the credit limit");
        assertThat(onePhase.status()).isEqualTo(TransactionStatus.ROLLED_BACK);
        assertThat(shop.store("Order", String.class).exists("o")).isFalse();
    }

    /** A participant that always votes no with the new exception type, after rolling back. */
    private record VotesNo(TransactionalResource data) implements TransactionalResource {
        @Override
        public String resourceManagerId() {
            return "votes-no";
        }

        @Override
        public TransactionBranch begin(TransactionId id) {
            TransactionBranch b = data.begin(id);
            return new DelegatingBranch(b, this) {
                @Override
                public Vote prepare() {
                    b.rollback();
                    throw new TransactionRolledBackException("over the credit limit");
                }

                @Override
                public void commitOnePhase() {
                    b.rollback();
                    throw new TransactionRolledBackException("over the credit limit");
                }
            };
        }

        @Override
        public Optional<TransactionBranch> branch(TransactionId id) {
            return data.branch(id);
        }

        @Override
        public List<TransactionId> recover() {
            return data.recover();
        }

        @Override
        public void commitPrepared(TransactionId id) {
            data.commitPrepared(id);
        }

        @Override
        public void rollbackPrepared(TransactionId id) {
            data.rollbackPrepared(id);
        }
    }
}
