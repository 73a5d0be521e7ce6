package dev.reliablestore.spring.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.data.annotation.Id;
import org.springframework.data.keyvalue.core.event.KeyValueEvent;
import org.springframework.data.keyvalue.repository.query.PredicateQueryCreator;
import org.springframework.data.keyvalue.repository.support.KeyValueRepositoryFactory;
import org.springframework.data.repository.CrudRepository;
import org.springframework.data.repository.NoRepositoryBean;
import org.springframework.data.repository.query.QueryCreationException;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;

/**
 * Derived deleteBy…/removeBy…/countBy… methods do what their names say (KeyValuePartTreeQuery alone
 * returns the first match and deletes nothing), in a real Spring context over the embedded registry
 * in a temp directory.
 */
class DerivedDeleteAndCountTest {

    interface Accounts extends CrudRepository<Account, String> {
        void deleteByOwner(String owner);

        long removeByOwner(String owner);

        int deleteByOwnerAndBalance(String owner, long balance);

        List<Account> deleteByBalanceLessThan(long limit);

        long countByOwner(String owner);

        int countByBalanceGreaterThan(long minimum);

        boolean existsByOwner(String owner);

        List<Account> findByOwner(String owner);
    }

    /** No @Version: the store's versions still say whether a match changed after the query read it. */
    public static class Memo {
        @Id
        public String id;
        public String topic;

        public Memo() {
        }

        Memo(String id, String topic) {
            this.id = id;
            this.topic = topic;
        }
    }

    interface Memos extends CrudRepository<Memo, String> {
        long deleteByTopic(String topic);
    }

    /**
     * A delete method with nothing a delete can return: refused when the repository is made. Not a
     * bean: every context scanning this package for nested repositories would fail to start.
     */
    @NoRepositoryBean
    interface BadDeletes extends CrudRepository<Account, String> {
        Account deleteByOwner(String owner);
    }

    @Configuration(proxyBeanMethods = false)
    @EnableReliableStoreRepositories(considerNestedRepositories = true)
    static class Application {
    }

    @TempDir
    Path dir;

    AnnotationConfigApplicationContext context;
    /** What a listener of the template's events does, set by a test: another writer acting mid-call. */
    Consumer<KeyValueEvent<?>> onKeyValueEvent = event -> { };
    StoreFactory factory;
    Accounts accounts;

    @BeforeEach
    void start() {
        context = RepositoryContexts.start(dir, Application.class, event -> onKeyValueEvent.accept(event));
        factory = context.getBean(StoreFactory.class);
        accounts = context.getBean(Accounts.class);
    }

    /** Repositories over {@code factory} made as @EnableReliableStoreRepositories makes them. */
    private static KeyValueRepositoryFactory repositories(StoreFactory factory) {
        return new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory), PredicateQueryCreator.class, StorePartTreeQuery.class);
    }

    @AfterEach
    void stop() {
        context.close();
    }

    private void saveFour() {
        accounts.save(new Account("a", "Alice", 10));
        accounts.save(new Account("b", "Bob", 20));
        accounts.save(new Account("c", "Alice", 30));
        accounts.save(new Account("d", "Carol", 40));
    }

    @Test
    void aDerivedDeleteDeletesTheMatchesAndReturnsWhatItsTypeSays() {
        saveFour();
        accounts.deleteByOwner("Alice");
        assertThat(accounts.findAll()).extracting(Account::getId).containsExactlyInAnyOrder("b", "d");
        assertThat(factory.store(Account.class).exists("a")).as("gone from the store itself").isFalse();

        accounts.deleteAll();
        saveFour();
        assertThat(accounts.removeByOwner("Alice")).isEqualTo(2L);
        assertThat(accounts.removeByOwner("Alice")).as("nothing left to match").isZero();
        assertThat(accounts.deleteByOwnerAndBalance("Bob", 20)).isEqualTo(1);
        assertThat(accounts.findAll()).extracting(Account::getId).containsExactly("d");

        accounts.deleteAll();
        saveFour();
        List<Account> deleted = accounts.deleteByBalanceLessThan(25);
        assertThat(deleted).extracting(Account::getId).containsExactlyInAnyOrder("a", "b");
        assertThat(deleted).allSatisfy(account -> assertThat(account.getVersion()).as("the version deleted").isEqualTo(1L));
        assertThat(accounts.findAll()).extracting(Account::getId).containsExactlyInAnyOrder("c", "d");
    }

    @Test
    void aDerivedCountCountsTheMatchesAndExistsStillAnswers() {
        saveFour();
        assertThat(accounts.countByOwner("Alice")).isEqualTo(2L);
        assertThat(accounts.countByOwner("Nobody")).isZero();
        assertThat(accounts.countByBalanceGreaterThan(15)).isEqualTo(3);
        assertThat(accounts.existsByOwner("Carol")).isTrue();
        assertThat(accounts.existsByOwner("Nobody")).isFalse();
        assertThat(accounts.findByOwner("Alice")).extracting(Account::getId).containsExactlyInAnyOrder("a", "c");
        assertThat(accounts.count()).as("nothing was deleted by counting").isEqualTo(4);
    }

    /**
     * Each match is deleted at the version the query read: one another writer changed in between
     * fails the call, naming it, and is left as that writer made it; matches before it are deleted,
     * the ones after it are not (there is no conditional batch delete to make it one write).
     */
    @Test
    void aMatchChangedAfterTheQueryReadItFailsTheDeleteAndIsKept() {
        accounts.save(new Account("a", "Alice", 10));
        accounts.save(new Account("b", "Alice", 20));
        accounts.save(new Account("c", "Alice", 30));
        EntityStore<Account> plain = factory.store(Account.class);
        onKeyValueEvent = event -> {
            if (event instanceof KeyValueEvent.BeforeDeleteEvent<?> before && "a".equals(before.getKey())) {
                Account b = plain.get("b").orElseThrow().value();
                b.setBalance(99);
                plain.save("b", b);
            }
        };
        assertThatThrownBy(() -> accounts.removeByOwner("Alice")).isInstanceOf(OptimisticLockingFailureException.class)
                .hasCauseInstanceOf(ConcurrencyConflictException.class)
                .hasMessageContainingAll(Account.class.getName(), "b was updated or deleted since the query read it at version 1",
                        "the 1 matches before it were deleted", "the 1 after it were not");
        assertThat(plain.exists("a")).isFalse();
        assertThat(plain.get("b")).hasValueSatisfying(b -> {
            assertThat(b.value().getBalance()).isEqualTo(99);
            assertThat(b.version()).isEqualTo(2);
        });
        assertThat(plain.exists("c")).isTrue();
    }

    /** Without @Version too: a match another writer changed so that it no longer matches is not deleted. */
    @Test
    void anUnversionedMatchChangedAfterTheQueryReadItIsKept() {
        Memos memos = context.getBean(Memos.class);
        memos.save(new Memo("r1", "spam"));
        memos.save(new Memo("r2", "spam"));
        memos.save(new Memo("r3", "ham"));
        EntityStore<Memo> plain = factory.store(Memo.class);
        onKeyValueEvent = event -> {
            if (event instanceof KeyValueEvent.BeforeDeleteEvent<?> before && "r1".equals(before.getKey())) {
                plain.save("r2", new Memo("r2", "ham"));
            }
        };
        assertThatThrownBy(() -> memos.deleteByTopic("spam")).isInstanceOf(OptimisticLockingFailureException.class)
                .hasMessageContaining("r2 was updated or deleted since the query read it");
        assertThat(plain.exists("r1")).isFalse();
        assertThat(plain.get("r2")).hasValueSatisfying(r2 -> assertThat(r2.value().topic).isEqualTo("ham"));

        onKeyValueEvent = event -> { };
        assertThat(memos.deleteByTopic("ham")).isEqualTo(2);
        assertThat(plain.count()).isZero();
    }

    /** Inside a transaction the deletes are the transaction's: a match changed before the commit rolls all of them back. */
    @Test
    void inATransactionADerivedDeleteCommitsOrRollsBackAsAWhole() {
        saveFour();
        EntityStore<Account> plain = factory.store(Account.class);

        TransactionBranch lost = TransactionalResource.from(factory).begin(TransactionId.of(1, "derived-delete-lost", "b"));
        Accounts inLost = repositories(VersionedWritesTest.inTransaction(lost)).getRepository(Accounts.class);
        assertThat(inLost.removeByOwner("Alice")).isEqualTo(2);
        Account c = plain.get("c").orElseThrow().value();
        c.setBalance(31);
        plain.save("c", c);
        assertThatThrownBy(lost::commitOnePhase).isInstanceOf(TransactionRolledBackException.class);
        assertThat(accounts.findByOwner("Alice")).extracting(Account::getId).containsExactlyInAnyOrder("a", "c");

        TransactionBranch won = TransactionalResource.from(factory).begin(TransactionId.of(1, "derived-delete-won", "b"));
        Accounts inWon = repositories(VersionedWritesTest.inTransaction(won)).getRepository(Accounts.class);
        assertThat(inWon.removeByOwner("Alice")).isEqualTo(2);
        assertThat(plain.exists("a")).as("not before the commit").isTrue();
        won.commitOnePhase();
        assertThat(accounts.findAll()).extracting(Account::getId).containsExactlyInAnyOrder("b", "d");
    }

    @Test
    void aDeleteMethodReturningAnEntityIsRefusedWhenTheRepositoryIsMade() {
        assertThatThrownBy(() -> repositories(factory).getRepository(BadDeletes.class)).isInstanceOf(QueryCreationException.class)
                .rootCause().isInstanceOf(QueryCreationException.class)
                .hasMessageContainingAll("deleteByOwner", "void", "long or int", "List", Account.class.getName());
    }
}
