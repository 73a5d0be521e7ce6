package dev.reliablestore.spring.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;
import org.springframework.data.keyvalue.repository.support.KeyValueRepositoryFactory;
import org.springframework.data.repository.CrudRepository;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;

/**
 * The value a repository's save stores holds the version that save gives it, so the plain API
 * ({@code factory.store(Account.class)}) reads the store's version in the object too, and an object
 * it read saves back through the repository; over the embedded registry in a temp directory.
 */
class VersionInTheStoredValueTest {

    interface Accounts extends CrudRepository<Account, String> {
    }

    /** A primitive int version: 0 is "new", as null is for a Long. */
    public static class Tally {
        @Id
        public String id;
        @Version
        public int version;
        public int count;
    }

    interface Tallies extends CrudRepository<Tally, String> {
    }

    @TempDir
    Path dir;

    StoreFactory factory;
    Accounts accounts;
    EntityStore<Account> plain;

    @BeforeEach
    void open() {
        factory = Persistence.openFactory("cluster-registry", Map.of(
                "clusterName", "embedded:" + dir.resolve("registry"), "resourceGroupName", "RG", "registryKeyPath", "Software/App"));
        accounts = new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory)).getRepository(Accounts.class);
        plain = factory.store(Account.class);
    }

    @AfterEach
    void close() {
        factory.close();
    }

    private static void assertHolds(Versioned<Account> stored, long version) {
        assertThat(stored.version()).isEqualTo(version);
        assertThat(stored.value().getVersion()).as("the version in the stored value of " + stored.id()).isEqualTo(version);
    }

    @Test
    void afterACreateAndAnUpdateTheStoredValueHoldsTheStoresVersion() {
        Account alice = accounts.save(new Account("alice", "Alice", 100));
        assertThat(plain.get("alice")).hasValueSatisfying(stored -> assertHolds(stored, 1));
        alice.setBalance(80);
        accounts.save(alice);
        assertThat(alice.getVersion()).isEqualTo(2L);
        assertThat(plain.get("alice")).hasValueSatisfying(stored -> assertHolds(stored, 2));

        Tallies tallies = new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory)).getRepository(Tallies.class);
        Tally tally = new Tally();
        tally.id = "t";
        tallies.save(tally);
        tally.count = 1;
        tallies.save(tally);
        assertThat(factory.store(Tally.class).get("t")).hasValueSatisfying(stored -> {
            assertThat(stored.version()).isEqualTo(2);
            assertThat(stored.value().version).isEqualTo(2);
        });
    }

    @Test
    void anObjectReadThroughThePlainApiSavesBackThroughTheRepository() {
        accounts.save(new Account("alice", "Alice", 100));
        Account read = plain.get("alice").orElseThrow().value();
        read.setBalance(70);
        accounts.save(read);
        assertThat(read.getVersion()).isEqualTo(2L);

        Account again = plain.get("alice").orElseThrow().value();
        again.setOwner("Alice B.");
        accounts.save(again);
        assertThat(plain.get("alice")).hasValueSatisfying(stored -> {
            assertHolds(stored, 3);
            assertThat(stored.value().getBalance()).isEqualTo(70);
            assertThat(stored.value().getOwner()).isEqualTo("Alice B.");
        });
    }

    @Test
    void aRefusedSaveLeavesTheObjectsVersionAsItWas() {
        Account alice = accounts.save(new Account("alice", "Alice", 100));
        Account stale = accounts.findById("alice").orElseThrow();
        alice.setBalance(90);
        accounts.save(alice);
        stale.setBalance(10);
        assertThatThrownBy(() -> accounts.save(stale)).isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(stale.getVersion()).as("still the version it was read at").isEqualTo(1L);

        // refused by the template's own check before the adapter's save: nothing to put back, and nothing stored
        Account duplicate = new Account("alice", "Mallory", 0);
        assertThatThrownBy(() -> accounts.save(duplicate)).isInstanceOf(DuplicateKeyException.class);
        assertThat(duplicate.getVersion()).as("still new").isNull();
        assertThat(plain.get("alice")).hasValueSatisfying(stored -> {
            assertHolds(stored, 2);
            assertThat(stored.value().getBalance()).isEqualTo(90);
        });

        // read again, the refused object saves
        stale.setVersion(accounts.findById("alice").orElseThrow().getVersion());
        accounts.save(stale);
        assertThat(plain.get("alice")).hasValueSatisfying(stored -> assertHolds(stored, 3));
    }

    @Test
    void saveAllStoresEachValueWithItsVersionAndAStaleOneKeepsItsOwn() {
        List<Account> created = List.of(new Account("a", "Alice", 1), new Account("b", "Bob", 2), new Account("c", "Carol", 3));
        accounts.saveAll(created);
        assertThat(plain.getAll()).hasSize(3).allSatisfy(stored -> assertHolds(stored, 1));
        created.forEach(account -> account.setBalance(account.getBalance() + 10));
        accounts.saveAll(created);
        assertThat(plain.getAll()).hasSize(3).allSatisfy(stored -> assertHolds(stored, 2));

        Account staleB = accounts.findById("b").orElseThrow();
        accounts.save(created.get(1));
        assertThatThrownBy(() -> accounts.saveAll(List.of(created.get(0), staleB, created.get(2))))
                .isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(created.get(0).getVersion()).as("saved before the stale one").isEqualTo(3L);
        assertThat(staleB.getVersion()).isEqualTo(2L);
        assertThat(created.get(2).getVersion()).as("not reached").isEqualTo(2L);
        assertThat(plain.get("a")).hasValueSatisfying(stored -> assertHolds(stored, 3));
        assertThat(plain.get("b")).hasValueSatisfying(stored -> assertHolds(stored, 3));
        assertThat(plain.get("c")).hasValueSatisfying(stored -> assertHolds(stored, 2));
    }
}
