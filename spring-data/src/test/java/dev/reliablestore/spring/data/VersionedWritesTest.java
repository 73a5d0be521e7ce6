package dev.reliablestore.spring.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.InvalidDataAccessApiUsageException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;
import org.springframework.data.domain.Persistable;
import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.repository.support.KeyValueRepositoryFactory;
import org.springframework.data.repository.CrudRepository;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ConflictResolution;
import dev.reliablestore.cluster.ConflictResolver;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.Vote;

/** What the adapter's writes promise beyond the default case: merges, concurrent inserts, version types; over the embedded registry in a temp directory. */
class VersionedWritesTest {

    public static class Member {
        @Id
        public String id;
        @Version
        public Long version;
        public String tier;
        public long credit;
        public String note;
    }

    interface Members extends CrudRepository<Member, String> {
    }

    /** No @Version; the application says when it is new, so the repository's save inserts it. */
    public static class Label implements Persistable<String> {
        @Id
        public String id;
        public String text;

        Label() {
        }

        Label(String id, String text) {
            this.id = id;
            this.text = text;
        }

        @Override
        public String getId() {
            return id;
        }

        @Override
        public boolean isNew() {
            return true;
        }
    }

    interface Labels extends CrudRepository<Label, String> {
    }

    public static class ShortVersioned {
        @Id
        public String id;
        @Version
        public Short version;
    }

    public static class BigIntegerVersioned {
        @Id
        public String id;
        @Version
        public BigInteger version;
    }

    public static class InstantVersioned {
        @Id
        public String id;
        @Version
        public Instant version;
    }

    @TempDir
    Path dir;

    private ClusterPersistenceConfiguration.Builder config() {
        return config("registry");
    }

    private ClusterPersistenceConfiguration.Builder config(String registry) {
        return ClusterPersistenceConfiguration.builder().clusterName("embedded:" + dir.resolve(registry))
                .resourceGroupName("RG").registryKeyPath("Software/App");
    }

    /** credit belongs to billing (the stored value), tier and note to whoever saves. */
    private static final ConflictResolver<Member> BILLING_KEEPS_CREDIT = (id, stored, attempted, expected) -> {
        Member merged = new Member();
        merged.id = id;
        merged.tier = attempted.tier;
        merged.note = attempted.note;
        merged.credit = stored.value().credit;
        return merged;
    };

    private static Members members(StoreFactory factory) {
        return new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory)).getRepository(Members.class);
    }

    /** The factory a JTA-aware one is while the branch's transaction runs: every store is the branch's view. */
    private static StoreFactory inTransaction(TransactionBranch branch) {
        return new StoreFactory() {
            @Override
            public String providerName() {
                return "transaction " + branch.id();
            }

            @Override
            public <T> EntityStore<T> store(String typeName, Class<T> type) {
                return branch.store(typeName, type);
            }

            @Override
            public void close() {
                // the branch ends with its commit or rollback
            }
        };
    }

    /**
     * A transaction's delete and save of one id are one net write, an update: the save gets the deleted
     * entity's version + 1 (not the 1 of a create), which the commit stores. That save resolved no
     * conflict, whatever conflictResolution says: the object holds the stored value, so it takes the
     * version, and its next save is an update of it (with a null version it would be an insert of an id
     * that exists: a DuplicateKeyException).
     */
    @Test
    void anEntityDeletedAndSavedAsNewInOneTransactionTakesTheVersionTheCommitStores() {
        for (ConflictResolution resolution : ConflictResolution.values()) {
            ClusterPersistenceConfiguration.Builder config = config(resolution.name()).conflictResolution(resolution);
            if (resolution == ConflictResolution.MERGE) {
                config.conflictResolver(Member.class, BILLING_KEEPS_CREDIT);
            }
            try (StoreFactory factory = ClusterPersistenceProvider.open(config.build())) {
                Members plain = members(factory);
                Member before = new Member();
                before.id = "x";
                before.tier = "GOLD";
                plain.save(before);
                plain.save(before);
                plain.save(before);
                assertThat(before.version).isEqualTo(3L);

                TransactionBranch branch = TransactionalResource.from(factory).begin(TransactionId.of(1, "recreate-" + resolution, "b"));
                Members inTransaction = members(inTransaction(branch));
                Member found = inTransaction.findById("x").orElseThrow();
                inTransaction.delete(found);
                Member fresh = new Member();
                fresh.id = "x";
                fresh.tier = "SILVER";
                fresh.credit = 7;
                inTransaction.save(fresh);
                branch.commitOnePhase();

                assertThat(factory.store(Member.class).get("x")).as(resolution.name())
                        .hasValueSatisfying(stored -> assertThat(stored.version()).isEqualTo(4));
                assertThat(fresh.version).as(resolution.name()).isEqualTo(4L);
                fresh.tier = "PLATINUM";
                plain.save(fresh);
                assertThat(plain.findById("x")).as(resolution.name()).hasValueSatisfying(stored -> {
                    assertThat(stored.version).isEqualTo(5L);
                    assertThat(stored.tier).isEqualTo("PLATINUM");
                    assertThat(stored.credit).isEqualTo(7);
                });
            }
        }
    }

    /**
     * LastWriteWins stores the object's own value over the newer one: the object holds what is stored,
     * so it takes the new version (its next save is an ordinary update). A merge whose result is the
     * object's value likewise.
     */
    @Test
    void aResolvedSaveWhoseStoredValueIsTheObjectsTakesTheNewVersion() {
        try (StoreFactory lww = ClusterPersistenceProvider.open(config("lww").conflictResolution(ConflictResolution.LAST_WRITE_WINS).build());
             StoreFactory attemptedWins = ClusterPersistenceProvider.open(config("merge").conflictResolution(ConflictResolution.MERGE)
                     .conflictResolver(Member.class, (id, stored, attempted, expected) -> attempted).build())) {
            for (StoreFactory factory : List.of(lww, attemptedWins)) {
                Members members = members(factory);
                Member created = new Member();
                created.id = "x";
                created.credit = 100;
                members.save(created);
                Member a = members.findById("x").orElseThrow();
                Member b = members.findById("x").orElseThrow();
                b.credit = 200;
                members.save(b);

                a.tier = "PLATINUM";
                members.save(a);
                assertThat(a.version).isEqualTo(3L);
                a.note = "called";
                members.save(a);
                assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                    assertThat(stored.version).isEqualTo(4L);
                    assertThat(stored.tier).isEqualTo("PLATINUM");
                    assertThat(stored.note).isEqualTo("called");
                    assertThat(stored.credit).isEqualTo(100);
                });
            }
        }
    }

    /**
     * A create the store merged into an entity another writer created keeps its null version: the
     * object does not hold the merge, and is still new to Spring Data, so its next save is an insert
     * of an id that exists.
     */
    @Test
    void aMergedCreateLeavesTheObjectNewSoItsNextSaveIsADuplicateKey() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Member.class, BILLING_KEEPS_CREDIT).build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
            Members members = new KeyValueRepositoryFactory(template).getRepository(Members.class);
            Member theirs = new Member();
            theirs.id = "x";
            theirs.credit = 100;
            members.save(theirs);

            Member mine = new Member();
            mine.id = "x";
            mine.tier = "GOLD";
            template.update(mine); // a create (null version) without the template's contains check, as after losing that race
            assertThat(mine.version).isNull();
            assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                assertThat(stored.version).isEqualTo(2L);
                assertThat(stored.tier).isEqualTo("GOLD");
                assertThat(stored.credit).isEqualTo(100);
            });
            mine.note = "called";
            assertThatThrownBy(() -> members.save(mine)).isInstanceOf(DuplicateKeyException.class);
        }
    }

    /**
     * A prepared transaction that creates an id locks it until its coordinator decides: an insert of
     * that id meanwhile meets the lock, not an existing entity. It is a concurrency failure (Spring's
     * transient OptimisticLockingFailureException), not the permanent DuplicateKeyException, and once
     * the transaction rolls back the same insert succeeds.
     */
    @Test
    void anInsertBlockedByAPreparedTransactionsLockIsAConflictNotADuplicateKey() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
            Members members = new KeyValueRepositoryFactory(template).getRepository(Members.class);
            TransactionBranch branch = TransactionalResource.from(factory).begin(TransactionId.of(1, "prepared-create", "b"));
            branch.store(Label.class).save("l", new Label("l", "prepared"));
            Member prepared = new Member();
            prepared.id = "m";
            branch.store(Member.class).save("m", prepared);
            assertThat(branch.prepare()).isEqualTo(Vote.COMMIT);

            Member mine = new Member();
            mine.id = "m";
            mine.tier = "GOLD";
            for (Runnable insert : List.<Runnable>of(() -> template.insert(new Label("l", "mine")), () -> members.save(mine))) {
                assertThatThrownBy(insert::run).isInstanceOf(OptimisticLockingFailureException.class)
                        .isNotInstanceOf(DuplicateKeyException.class).hasCauseInstanceOf(ConcurrencyConflictException.class)
                        .hasMessageContaining("locked by prepared transaction");
            }
            assertThat(mine.version).isNull();

            branch.rollback();
            template.insert(new Label("l", "mine"));
            members.save(mine);
            assertThat(factory.store(Label.class).get("l")).hasValueSatisfying(v -> assertThat(v.value().text).isEqualTo("mine"));
            assertThat(mine.version).isEqualTo(1L);
            assertThat(members.findById("m")).hasValueSatisfying(stored -> assertThat(stored.tier).isEqualTo("GOLD"));
        }
    }

    /**
     * Under Merge the stored value after a conflict is the resolver's, not the caller's object: the
     * object keeps the version it had, so its next save meets the newer writer's value again
     * instead of overwriting it as if the object held the merge.
     */
    @Test
    void aMergedSaveLeavesTheObjectsVersionSoItsNextSaveIsMergedAgain() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Member.class, BILLING_KEEPS_CREDIT).build())) {
            Members members = new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory)).getRepository(Members.class);
            Member created = new Member();
            created.id = "x";
            created.tier = "GOLD";
            created.credit = 100;
            members.save(created);

            Member a = members.findById("x").orElseThrow();
            Member b = members.findById("x").orElseThrow();
            b.credit = 200;
            members.save(b);
            assertThat(b.version).isEqualTo(2L);

            a.tier = "PLATINUM";
            members.save(a);
            assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                assertThat(stored.version).isEqualTo(3L);
                assertThat(stored.tier).isEqualTo("PLATINUM");
                assertThat(stored.credit).isEqualTo(200);
            });
            assertThat(a.version).as("a holds credit 100, not version 3's 200").isEqualTo(1L);

            a.note = "called";
            members.save(a);
            assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                assertThat(stored.credit).isEqualTo(200);
                assertThat(stored.tier).isEqualTo("PLATINUM");
                assertThat(stored.note).isEqualTo("called");
            });
        }
    }

    /**
     * KeyValueTemplate's insert checks {@code contains} and then writes: two inserts of one new id
     * that both passed the check must not both succeed, the second silently replacing the first.
     */
    @Test
    void ofTwoConcurrentInsertsOfOneNewIdExactlyOneWinsTheOtherIsADuplicateKey() throws Exception {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(bothPassExistsFirst(factory));
            Labels labels = new KeyValueRepositoryFactory(template).getRepository(Labels.class);
            race(factory, "l1", "through KeyValueOperations.insert", template::insert);
            race(factory, "l2", "through a repository's save of a new Persistable", labels::save);
        }
    }

    private static void race(StoreFactory factory, String id, String how, Consumer<Label> insert) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> inserts = new ArrayList<>();
            for (String text : new String[] {"first", "second"}) {
                inserts.add(threads.submit(() -> {
                    try {
                        insert.accept(new Label(id, text));
                        return text;
                    } catch (DuplicateKeyException lost) {
                        return null;
                    }
                }));
            }
            List<String> winners = new ArrayList<>();
            for (Future<String> f : inserts) {
                String won = f.get(30, TimeUnit.SECONDS);
                if (won != null) {
                    winners.add(won);
                }
            }
            assertThat(winners).as(how).hasSize(1);
            assertThat(factory.store(Label.class).get(id)).as(how)
                    .hasValueSatisfying(v -> assertThat(v.value().text).isEqualTo(winners.get(0)));
        } finally {
            threads.shutdownNow();
        }
    }

    /** The factory's stores, except that each exists() returns only once two callers have passed it. */
    private static StoreFactory bothPassExistsFirst(StoreFactory real) {
        List<CountDownLatch> rounds = new ArrayList<>();
        return (StoreFactory) Proxy.newProxyInstance(VersionedWritesTest.class.getClassLoader(), new Class<?>[] {StoreFactory.class},
                (proxy, method, args) -> {
                    Object result = invoke(method, real, args);
                    if (!(result instanceof EntityStore<?> store)) {
                        return result;
                    }
                    return Proxy.newProxyInstance(VersionedWritesTest.class.getClassLoader(), new Class<?>[] {EntityStore.class},
                            (p, m, a) -> {
                                Object answer = invoke(m, store, a);
                                if (m.getName().equals("exists")) {
                                    CountDownLatch both;
                                    synchronized (rounds) {
                                        if (rounds.isEmpty() || rounds.get(rounds.size() - 1).getCount() == 0) {
                                            rounds.add(new CountDownLatch(2));
                                        }
                                        both = rounds.get(rounds.size() - 1);
                                    }
                                    both.countDown();
                                    assertThat(both.await(30, TimeUnit.SECONDS)).as("the other insert reached exists()").isTrue();
                                }
                                return answer;
                            });
                });
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Only whole-number versions can hold the store's: others are refused before the first write, not after it. */
    @Test
    void aVersionPropertyOfAnotherTypeIsRefusedBeforeAnythingIsWritten() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
            ShortVersioned s = new ShortVersioned();
            s.id = "s";
            BigIntegerVersioned b = new BigIntegerVersioned();
            b.id = "b";
            InstantVersioned i = new InstantVersioned();
            i.id = "i";
            Map<Object, Class<?>> versionTypes = Map.of(s, Short.class, b, BigInteger.class, i, Instant.class);
            versionTypes.forEach((entity, versionType) -> {
                assertThatThrownBy(() -> template.insert(entity)).isInstanceOf(InvalidDataAccessApiUsageException.class)
                        .hasMessageContaining(entity.getClass().getName()).hasMessageContaining("version")
                        .hasMessageContaining(versionType.getName()).hasMessageContaining("Long");
                assertThatThrownBy(() -> template.update(entity)).isInstanceOf(InvalidDataAccessApiUsageException.class);
                assertThat(factory.store(entity.getClass()).count()).as(versionType.getName()).isZero();
            });
            // written through the plain API: deleting or reading it through the template is refused the same way, and deletes nothing
            ShortVersioned plain = new ShortVersioned();
            plain.id = "p";
            factory.store(ShortVersioned.class).save("p", plain);
            assertThatThrownBy(() -> template.delete("p", ShortVersioned.class)).isInstanceOf(InvalidDataAccessApiUsageException.class)
                    .hasMessageContaining(ShortVersioned.class.getName());
            assertThatThrownBy(() -> template.delete(plain)).isInstanceOf(InvalidDataAccessApiUsageException.class);
            assertThatThrownBy(() -> template.findById("p", ShortVersioned.class)).isInstanceOf(InvalidDataAccessApiUsageException.class);
            assertThat(factory.store(ShortVersioned.class).exists("p")).isTrue();
        }
    }
}
