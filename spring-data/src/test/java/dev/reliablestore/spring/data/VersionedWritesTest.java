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
import java.util.concurrent.atomic.AtomicBoolean;
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

/** What the adapter's writes promise beyond the default case: conflict resolutions, concurrent inserts, version types; over the embedded registry in a temp directory. */
class VersionedWritesTest {

    public static class Member {
        @Id
        public String id;
        @Version
        public Long version;
        public String tier;
        public long credit;
        public String note;
        /** Untyped, as a map's values or a generic field are: a Long written is read back as an Integer. */
        public Object points;
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

    /** No @Version and not Persistable: a repository's save of it with its id set is an unconditional save. */
    public static class Remark {
        @Id
        public String id;
        public String text;
    }

    interface Remarks extends CrudRepository<Remark, String> {
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
    static StoreFactory inTransaction(TransactionBranch branch) {
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

    /** Saves of one entity in a transaction are one write: the value the commit stores holds that write's version. */
    @Test
    void anEntitySavedTwiceInOneTransactionIsStoredWithTheVersionTheCommitGivesIt() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config("twice").build())) {
            Members plain = members(factory);
            Member m = new Member();
            m.id = "x";
            m.tier = "GOLD";
            plain.save(m);
            TransactionBranch branch = TransactionalResource.from(factory).begin(TransactionId.of(1, "twice", "b"));
            Members inTransaction = members(inTransaction(branch));
            Member found = inTransaction.findById("x").orElseThrow();
            found.tier = "SILVER";
            inTransaction.save(found);
            found.tier = "PLATINUM";
            inTransaction.save(found);
            branch.commitOnePhase();
            assertThat(found.version).isEqualTo(2L);
            assertThat(factory.store(Member.class).get("x")).hasValueSatisfying(stored -> {
                assertThat(stored.version()).isEqualTo(2);
                assertThat(stored.value().version).as("the version in the stored value").isEqualTo(2L);
                assertThat(stored.value().tier).isEqualTo("PLATINUM");
            });
            Member readPlainly = factory.store(Member.class).get("x").orElseThrow().value();
            readPlainly.note = "saved back";
            plain.save(readPlainly);
            assertThat(readPlainly.version).isEqualTo(3L);
        }
    }

    /**
     * A transaction's delete and save of one id are one net write, an update: the save gets the deleted
     * entity's version + 1 (not the 1 of a create), which the commit stores. The object takes that
     * version, and its next save is an update of it (with a null version it would be an insert of an id
     * that exists: a DuplicateKeyException). Its untyped number is one a read-back reads as another type.
     */
    @Test
    void anEntityDeletedAndSavedAsNewInOneTransactionTakesTheVersionTheCommitStores() {
        for (ConflictResolution resolution : List.of(ConflictResolution.OPTIMISTIC, ConflictResolution.LAST_WRITE_WINS)) {
            try (StoreFactory factory = ClusterPersistenceProvider.open(config(resolution.name()).conflictResolution(resolution).build())) {
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
                fresh.points = 5L;
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
     * LastWriteWins stores the object's own value over the newer one, so the version a save returns
     * describes the object: a stale save and a create of an id that exists by then both give the object
     * the new version, and its next save is an ordinary update of it. The objects carry an untyped
     * number, which a read-back reads as another type.
     */
    @Test
    void underLastWriteWinsAStaleSaveOverwritesAndTheObjectTakesTheReturnedVersion() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.LAST_WRITE_WINS).build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
            Members members = new KeyValueRepositoryFactory(template).getRepository(Members.class);
            Member created = new Member();
            created.id = "x";
            created.credit = 100;
            members.save(created);
            Member a = members.findById("x").orElseThrow();
            Member b = members.findById("x").orElseThrow();
            b.credit = 200;
            members.save(b);

            a.tier = "PLATINUM";
            a.points = 7L;
            members.save(a);
            assertThat(a.version).isEqualTo(3L);
            a.note = "called";
            members.save(a);
            assertThat(a.version).isEqualTo(4L);
            assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                assertThat(stored.version).isEqualTo(4L);
                assertThat(stored.tier).isEqualTo("PLATINUM");
                assertThat(stored.note).isEqualTo("called");
                assertThat(stored.credit).as("b's 200 was overwritten").isEqualTo(100);
            });

            Member mine = new Member();
            mine.id = "x";
            mine.tier = "GOLD";
            mine.points = 9L;
            template.update(mine); // a create (null version) without the template's contains check, as after losing that race
            assertThat(mine.version).isEqualTo(5L);
            mine.note = "mine";
            members.save(mine);
            assertThat(mine.version).isEqualTo(6L);
            assertThat(members.findById("x")).hasValueSatisfying(stored -> {
                assertThat(stored.version).isEqualTo(6L);
                assertThat(stored.tier).isEqualTo("GOLD");
                assertThat(stored.note).isEqualTo("mine");
                assertThat(stored.credit).isZero();
            });
        }
    }

    /**
     * Under Merge a stale save stores the resolver's merge, a value the object does not hold, so no
     * version the object could take is true: a type with @Version is refused at its first use, before
     * anything is written or deleted, naming the class, the property and the way out.
     */
    @Test
    void aVersionedTypeWhoseStoreMergesStaleSavesIsRefusedBeforeAnythingIsWritten() {
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Member.class, BILLING_KEEPS_CREDIT).build())) {
            KeyValueTemplate template = ReliableStoreKeyValue.template(factory);
            Members members = new KeyValueRepositoryFactory(template).getRepository(Members.class);
            Member mine = new Member();
            mine.id = "x";
            mine.tier = "GOLD";
            Member read = new Member();
            read.id = "y";
            read.version = 1L;
            List<Runnable> uses = List.of(() -> members.save(mine), () -> template.insert(mine), () -> template.update(mine),
                    () -> members.findById("x"), () -> members.findAll(), () -> members.count(),
                    () -> members.delete(read), () -> members.deleteById("y"));
            for (Runnable use : uses) {
                assertThatThrownBy(use::run).isInstanceOf(InvalidDataAccessApiUsageException.class)
                        .hasMessageContainingAll(Member.class.getName(), "@Version property version", "merge",
                                "does not hold", "remove @Version", "Optimistic", "LastWriteWins");
            }
            assertThat(mine.version).isNull();
            assertThat(factory.store(Member.class).count()).isZero();

            // written through the plain API: nothing the template does to it gets through
            factory.store(Member.class).save("y", read);
            assertThatThrownBy(() -> members.delete(read)).isInstanceOf(InvalidDataAccessApiUsageException.class);
            assertThatThrownBy(() -> members.save(read)).isInstanceOf(InvalidDataAccessApiUsageException.class);
            assertThat(factory.store(Member.class).get("y")).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(1));
        }
    }

    /**
     * Without @Version a save has no expected version to conflict with, so a store that merges stale
     * saves stores exactly what it is given: such types are not refused, and their saves never call the
     * resolver.
     */
    @Test
    void underMergeATypeWithoutVersionIsSavedUnconditionally() {
        ConflictResolver<Remark> notCalled = (id, stored, attempted, expected) -> {
            throw new AssertionError("an unconditional save was merged");
        };
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Remark.class, notCalled).build())) {
            Remarks remarks = new KeyValueRepositoryFactory(ReliableStoreKeyValue.template(factory)).getRepository(Remarks.class);
            Remark first = new Remark();
            first.id = "r";
            first.text = "first";
            remarks.save(first);
            Remark a = remarks.findById("r").orElseThrow();
            Remark b = remarks.findById("r").orElseThrow();
            b.text = "b's";
            remarks.save(b);
            a.text = "a's";
            remarks.save(a);
            assertThat(remarks.findById("r")).hasValueSatisfying(stored -> assertThat(stored.text).isEqualTo("a's"));
            assertThat(factory.store(Remark.class).get("r")).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(3));
            assertThat(remarks.count()).isEqualTo(1);
        }
    }

    /**
     * Under LastWriteWins and Merge a create of an id that exists is resolved, not refused; but one that
     * a prepared transaction's lock blocks after the id was created meanwhile (past the template's
     * check) fails, and the store's conflict names the version it found, so it is a DuplicateKeyException
     * (a retry would meet the template's check of the existing id anyway).
     */
    @Test
    void aResolvingStoresCreateBlockedByALockOnAnIdCreatedMeanwhileIsADuplicateKey() {
        for (ConflictResolution resolution : List.of(ConflictResolution.LAST_WRITE_WINS, ConflictResolution.MERGE)) {
            ClusterPersistenceConfiguration.Builder config = config(resolution.name()).conflictResolution(resolution);
            if (resolution == ConflictResolution.MERGE) {
                config.conflictResolver(Label.class, (id, stored, attempted, expected) -> attempted);
            }
            try (StoreFactory factory = ClusterPersistenceProvider.open(config.build())) {
                TransactionBranch branch = TransactionalResource.from(factory).begin(TransactionId.of(1, "lock-" + resolution, "b"));
                KeyValueTemplate template = ReliableStoreKeyValue.template(afterFirstExists(factory, () -> {
                    factory.store(Label.class).save("l", new Label("l", "theirs"));
                    branch.store(Label.class).save("l", new Label("l", "prepared"));
                    assertThat(branch.prepare()).isEqualTo(Vote.COMMIT);
                }));
                assertThatThrownBy(() -> template.insert(new Label("l", "mine"))).as(resolution.name())
                        .isInstanceOf(DuplicateKeyException.class).cause().isInstanceOf(ConcurrencyConflictException.class)
                        .hasMessageContaining("locked by prepared transaction");
                branch.rollback();
                assertThat(factory.store(Label.class).get("l")).as(resolution.name())
                        .hasValueSatisfying(v -> assertThat(v.value().text).isEqualTo("theirs"));
            }
        }
    }

    /** The factory's stores, except that the first exists() of any runs {@code then} after answering. */
    private static StoreFactory afterFirstExists(StoreFactory real, Runnable then) {
        AtomicBoolean ran = new AtomicBoolean();
        return (StoreFactory) Proxy.newProxyInstance(VersionedWritesTest.class.getClassLoader(), new Class<?>[] {StoreFactory.class},
                (proxy, method, args) -> {
                    Object result = invoke(method, real, args);
                    if (!(result instanceof EntityStore<?> store)) {
                        return result;
                    }
                    return Proxy.newProxyInstance(VersionedWritesTest.class.getClassLoader(), new Class<?>[] {EntityStore.class},
                            (p, m, a) -> {
                                Object answer = invoke(m, store, a);
                                if (m.getName().equals("exists") && ran.compareAndSet(false, true)) {
                                    then.run();
                                }
                                return answer;
                            });
                });
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
