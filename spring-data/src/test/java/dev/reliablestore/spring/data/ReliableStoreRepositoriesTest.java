package dev.reliablestore.spring.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.InvalidDataAccessApiUsageException;
import org.springframework.dao.NonTransientDataAccessResourceException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.data.domain.Page;
import org.springframework.data.keyvalue.core.event.KeyValueEvent;
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Pageable;
import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;
import org.springframework.data.domain.Sort;
import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.repository.CrudRepository;
import org.springframework.data.repository.PagingAndSortingRepository;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;

/** Repositories of @EnableReliableStoreRepositories in a real Spring context over the embedded registry in a temp directory. */
class ReliableStoreRepositoriesTest {

    interface Accounts extends CrudRepository<Account, String>, PagingAndSortingRepository<Account, String> {
        List<Account> findByOwner(String owner);

        Page<Account> findByBalanceGreaterThan(long minimum, Pageable page);
    }

    /** Subclasses inheriting one keyspace: refused, a typed store holds one class. */
    @org.springframework.data.keyvalue.annotation.KeySpace("pets")
    abstract static class Pet {
        @Id
        public String id;
    }

    static class Dog extends Pet {
        public String breed;
    }

    static class Cat extends Pet {
        public int lives;
    }

    interface Dogs extends CrudRepository<Dog, String> {
    }

    interface Cats extends CrudRepository<Cat, String> {
    }

    /** Two classes of one simple name in two places: each would be stored as entity type Client. */
    static class Crm {
        static class Client {
            @Id
            public String id;
            public String email;
        }
    }

    static class Billing {
        static class Client {
            @Id
            public String id;
            public String iban;
        }
    }

    interface CrmClients extends CrudRepository<Crm.Client, String> {
    }

    /** An entity, and a value class of the same simple name held in another entity's field: not a type, no clash. */
    static class Inventory {
        static class Line {
            @Id
            public String id;
            public int stock;
        }
    }

    static class Sales {
        static class Line {
            public String sku;
        }

        static class Order {
            @Id
            public String id;
            public List<Line> lines;
        }
    }

    interface InventoryLines extends CrudRepository<Inventory.Line, String> {
    }

    interface SalesOrders extends CrudRepository<Sales.Order, String> {
    }

    interface BillingClients extends CrudRepository<Billing.Client, String> {
    }

    @Configuration(proxyBeanMethods = false)
    @EnableReliableStoreRepositories(considerNestedRepositories = true)
    static class Application {
    }

    @TempDir
    Path dir;

    AnnotationConfigApplicationContext context;
    /** What a listener of the template's events does (e.g. a cascading delete), set by a test. */
    java.util.function.Consumer<KeyValueEvent<?>> onKeyValueEvent = event -> { };
    StoreFactory factory;
    Accounts accounts;

    @BeforeEach
    void start() {
        context = RepositoryContexts.start(dir, Application.class, event -> onKeyValueEvent.accept(event));
        factory = context.getBean(StoreFactory.class);
        accounts = context.getBean(Accounts.class);
    }

    @AfterEach
    void stop() {
        context.close();
    }

    @Test
    void theDataOutlivesTheContext() {
        accounts.save(new Account("alice", "Alice", 100));
        context.close();
        // KeyValueTemplate's own destroy() clears every keyspace: ours must not
        try (StoreFactory again = Persistence.openFactory("cluster-registry", Map.of(
                "clusterName", "embedded:" + dir.resolve("registry"), "resourceGroupName", "RG", "registryKeyPath", "Software/App"))) {
            assertThat(again.store(Account.class).get("alice")).isPresent();
        }
    }

    @Test
    void crudThroughTheRepositoryKeepsTheStoresVersionInTheVersionProperty() {
        Account alice = accounts.save(new Account("alice", "Alice", 100));
        assertThat(alice.getVersion()).isEqualTo(1L);
        // the data is the plain API's: type Account (the simple name), the same version
        EntityStore<Account> plain = factory.store(Account.class);
        assertThat(plain.get("alice")).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(1L));

        alice.setBalance(80);
        assertThat(accounts.save(alice).getVersion()).isEqualTo(2L);
        assertThat(accounts.findById("alice")).hasValueSatisfying(a -> {
            assertThat(a.getBalance()).isEqualTo(80);
            assertThat(a.getVersion()).isEqualTo(2L);
        });
        accounts.save(new Account("bob", "Bob", 5));
        assertThat(accounts.count()).isEqualTo(2);
        assertThat(accounts.existsById("bob")).isTrue();
        accounts.deleteById("bob");
        assertThat(accounts.findById("bob")).isEmpty();
        assertThat(accounts.findAll()).extracting(Account::getId).containsExactly("alice");
        accounts.deleteAll();
        assertThat(accounts.count()).isZero();
    }

    /**
     * Spring Data's contract: deleting a versioned entity whose version is no longer the stored one
     * (updated or deleted by another writer) fails and deletes nothing; it must not remove the
     * other writer's update.
     */
    @Test
    void deletingAStaleEntityFailsAndLeavesTheNewerVersion() {
        accounts.save(new Account("alice", "Alice", 100));
        Account stale = accounts.findById("alice").orElseThrow();
        Account current = accounts.findById("alice").orElseThrow();
        current.setBalance(90);
        accounts.save(current);
        assertThatThrownBy(() -> accounts.delete(stale)).isInstanceOf(OptimisticLockingFailureException.class)
                .hasCauseInstanceOf(ConcurrencyConflictException.class);
        assertThatThrownBy(() -> accounts.deleteAll(List.of(stale))).isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(accounts.findById("alice")).hasValueSatisfying(a -> {
            assertThat(a.getBalance()).isEqualTo(90);
            assertThat(a.getVersion()).isEqualTo(2L);
        });

        accounts.delete(current);
        assertThat(accounts.existsById("alice")).isFalse();
        assertThatThrownBy(() -> accounts.delete(current)).as("already deleted by someone")
                .isInstanceOf(OptimisticLockingFailureException.class);

        accounts.save(new Account("bob", "Bob", 5));
        accounts.delete(new Account("bob", "Bob", 5)); // no version: deleted by id
        assertThat(accounts.existsById("bob")).isFalse();
    }

    @Test
    void aStaleVersionIsAnOptimisticLockingFailureCausedByTheStoresConflict() {
        accounts.save(new Account("alice", "Alice", 100));
        Account first = accounts.findById("alice").orElseThrow();
        Account second = accounts.findById("alice").orElseThrow();
        first.setBalance(90);
        accounts.save(first);
        second.setBalance(50);
        assertThatThrownBy(() -> accounts.save(second)).isInstanceOf(OptimisticLockingFailureException.class)
                .hasCauseInstanceOf(ConcurrencyConflictException.class);
        assertThat(accounts.findById("alice")).hasValueSatisfying(a -> {
            assertThat(a.getBalance()).isEqualTo(90);
            assertThat(a.getVersion()).isEqualTo(2L);
        });
        assertThatThrownBy(() -> accounts.save(new Account("alice", "Mallory", 0))).isInstanceOf(DuplicateKeyException.class);
    }

    @Test
    void ofTwoConcurrentUpdatesOfTheSameVersionExactlyOneWins() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                String id = "acct-" + round;
                accounts.save(new Account(id, "Alice", 100));
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<Long>> updates = new ArrayList<>();
                for (long balance : new long[] {1, 2}) {
                    Account copy = accounts.findById(id).orElseThrow();
                    copy.setBalance(balance);
                    updates.add(threads.submit(() -> {
                        start.await();
                        try {
                            accounts.save(copy);
                            return copy.getBalance();
                        } catch (OptimisticLockingFailureException lost) {
                            assertThat(lost).hasCauseInstanceOf(ConcurrencyConflictException.class);
                            return -1L;
                        }
                    }));
                }
                List<Long> outcomes = List.of(updates.get(0).get(), updates.get(1).get());
                assertThat(outcomes).as("round %d", round).containsOnlyOnce(-1L);
                long winner = outcomes.get(0) == -1L ? outcomes.get(1) : outcomes.get(0);
                assertThat(accounts.findById(id)).hasValueSatisfying(a -> {
                    assertThat(a.getBalance()).isEqualTo(winner);
                    assertThat(a.getVersion()).isEqualTo(2L);
                });
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void derivedQueriesPagingAndSortingScanTheType() {
        accounts.save(new Account("a", "Alice", 10));
        accounts.save(new Account("b", "Bob", 20));
        accounts.save(new Account("c", "Alice", 30));
        accounts.save(new Account("d", "Carol", 40));
        assertThat(accounts.findByOwner("Alice")).extracting(Account::getId).containsExactlyInAnyOrder("a", "c");
        Page<Account> page = accounts.findByBalanceGreaterThan(15, PageRequest.of(0, 2, Sort.by(Sort.Direction.DESC, "balance")));
        assertThat(page.getContent()).extracting(Account::getId).containsExactly("d", "c");
        assertThat(page.getTotalElements()).isEqualTo(3);
        assertThat(accounts.findAll(Sort.by("balance"))).extracting(Account::getId).containsExactly("a", "b", "c", "d");
        assertThat(accounts.findAll(PageRequest.of(1, 3, Sort.by("id")))).extracting(Account::getId).containsExactly("d");
    }

    /**
     * The version a {@code delete(entity)} expects belongs to that entity alone: listeners of the
     * template's events that delete other entities before and after it neither lose it nor use it.
     */
    @Test
    void deletesMadeByEventListenersDuringADeleteKeepEachEntitysOwnVersion() {
        accounts.save(new Account("alice", "Alice", 100));
        accounts.save(new Account("bob", "Bob", 5));
        accounts.save(new Account("carol", "Carol", 7));
        accounts.save(new Account("dave", "Dave", 3));
        Account stale = accounts.findById("alice").orElseThrow();
        Account current = accounts.findById("alice").orElseThrow();
        current.setBalance(90);
        accounts.save(current);
        Account carol = accounts.findById("carol").orElseThrow();
        carol.setBalance(8);
        carol = accounts.save(carol);
        accounts.save(carol); // carol at version 3, alice at 2: alice's version must not be carol's expected one
        onKeyValueEvent = event -> {
            if (event instanceof KeyValueEvent.BeforeDeleteEvent<?> before && "alice".equals(before.getKey())) {
                accounts.findById("bob").ifPresent(accounts::delete); // a cascade of versioned deletes
            } else if (event instanceof KeyValueEvent.AfterDeleteEvent<?> after && "alice".equals(after.getKey())) {
                accounts.deleteById("carol");
            }
            if (event instanceof KeyValueEvent.BeforeDeleteEvent<?> before && "alice".equals(before.getKey())) {
                accounts.deleteById("dave"); // by id, while alice's version waits for her own delete
            }
        };
        assertThatThrownBy(() -> accounts.delete(stale)).isInstanceOf(OptimisticLockingFailureException.class);
        assertThat(accounts.findById("alice")).hasValueSatisfying(a -> assertThat(a.getBalance()).isEqualTo(90));
        assertThat(accounts.existsById("bob")).as("the cascade before the refused delete ran").isFalse();
        assertThat(accounts.existsById("dave")).as("deleted by id, whatever alice's version").isFalse();

        accounts.delete(current);
        assertThat(accounts.existsById("alice")).isFalse();
        assertThat(accounts.existsById("carol")).as("deleted by id after alice, whatever alice's version").isFalse();
    }

    @Test
    void classesSharingAKeyspaceAreRefusedAndNothingIsWritten() {
        Dog rex = new Dog();
        rex.id = "rex";
        rex.breed = "beagle";
        assertThatThrownBy(() -> context.getBean(Dogs.class).save(rex)).isInstanceOf(InvalidDataAccessApiUsageException.class)
                .hasMessageContaining("keyspace pets is used by").hasMessageContaining(Dog.class.getName())
                .hasMessageContaining(Cat.class.getName());
        assertThatThrownBy(() -> context.getBean(Cats.class).findAll()).isInstanceOf(InvalidDataAccessApiUsageException.class)
                .hasMessageContaining("keyspace pets");
        assertThat(factory.store("pets", Dog.class).count()).isZero();
    }

    @Test
    void classesOfOneSimpleNameAreRefusedAndNothingIsWritten() {
        Billing.Client c1 = new Billing.Client();
        c1.id = "c1";
        c1.iban = "DE00";
        assertThatThrownBy(() -> context.getBean(BillingClients.class).save(c1)).isInstanceOf(InvalidDataAccessApiUsageException.class)
                .hasMessageContaining("would both be stored as entity type Client").hasMessageContaining(Billing.Client.class.getName())
                .hasMessageContaining(Crm.Client.class.getName());
        assertThatThrownBy(() -> context.getBean(CrmClients.class).findById("c1")).isInstanceOf(InvalidDataAccessApiUsageException.class);
        assertThat(factory.store("Client", Billing.Client.class).count()).isZero();
    }

    @Test
    void aValueClassOfAnEntitysSimpleNameHeldInAFieldIsNoClash() {
        Sales.Order order = new Sales.Order();
        order.id = "o1";
        Sales.Line sold = new Sales.Line();
        sold.sku = "bolt";
        order.lines = List.of(sold);
        context.getBean(SalesOrders.class).save(order);
        Inventory.Line line = new Inventory.Line();
        line.id = "bolt";
        line.stock = 7;
        context.getBean(InventoryLines.class).save(line);
        assertThat(context.getBean(InventoryLines.class).findById("bolt")).map(l -> l.stock).contains(7);
        assertThat(context.getBean(SalesOrders.class).findById("o1")).map(o -> o.lines.get(0).sku).contains("bolt");
    }

    @Test
    void otherFailuresBecomeDataAccessExceptions() {
        assertThatThrownBy(() -> accounts.save(new Account("bad/id", "Alice", 1))).isInstanceOf(InvalidDataAccessApiUsageException.class);
        factory.close();
        assertThatThrownBy(() -> accounts.findById("alice")).isInstanceOf(NonTransientDataAccessResourceException.class)
                .hasCauseInstanceOf(StoreClosedException.class);
        // KeyValueTemplate.count(Class) calls the adapter directly, outside its translating execute()
        assertThatThrownBy(() -> accounts.count()).isInstanceOf(NonTransientDataAccessResourceException.class)
                .hasCauseInstanceOf(StoreClosedException.class);
        assertThatThrownBy(() -> accounts.findAll(PageRequest.of(0, 10))).isInstanceOf(NonTransientDataAccessResourceException.class)
                .hasCauseInstanceOf(StoreClosedException.class);
        // a retryable failure cannot be caused on demand in the embedded registry: the translation alone
        StoreExceptionTranslator translator = new StoreExceptionTranslator();
        assertThat(translator.translateExceptionIfPossible(new StoreUnavailableException("registry unreachable")))
                .isInstanceOf(TransientDataAccessException.class).hasCauseInstanceOf(StoreUnavailableException.class);
        assertThat(translator.translateExceptionIfPossible(new ConfigurationException("conflictResolution = Merge but no ConflictResolver")))
                .isInstanceOf(InvalidDataAccessApiUsageException.class).hasCauseInstanceOf(ConfigurationException.class);
    }

    record Ticket(@Id String id, @Version Long version) {
    }

    @Test
    void aVersionPropertyThatCannotBeSetIsRefusedBeforeAnythingIsWritten() {
        KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
        assertThatThrownBy(() -> template.insert(new Ticket("t1", null))).isInstanceOf(InvalidDataAccessApiUsageException.class)
                .hasMessageContaining("version").hasMessageContaining(Ticket.class.getName());
        assertThat(factory.store(Ticket.class).exists("t1")).isFalse();
    }
}
