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
import org.springframework.data.annotation.Id;
import org.springframework.data.annotation.Version;
import org.springframework.data.domain.Persistable;
import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.repository.support.KeyValueRepositoryFactory;
import org.springframework.data.repository.CrudRepository;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.cluster.ClusterPersistenceProvider;
import dev.reliablestore.cluster.ConflictResolution;

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
        return ClusterPersistenceConfiguration.builder().clusterName("embedded:" + dir.resolve("registry"))
                .resourceGroupName("RG").registryKeyPath("Software/App");
    }

    /**
     * Under Merge the stored value after a conflict is the resolver's, not the caller's object: the
     * object keeps the version it had, so its next save meets the newer writer's value again
     * instead of overwriting it as if the object held the merge.
     */
    @Test
    void aMergedSaveLeavesTheObjectsVersionSoItsNextSaveIsMergedAgain() {
        // credit belongs to billing (the stored value), tier and note to whoever saves
        try (StoreFactory factory = ClusterPersistenceProvider.open(config().conflictResolution(ConflictResolution.MERGE)
                .conflictResolver(Member.class, (id, stored, attempted, expected) -> {
                    Member merged = new Member();
                    merged.id = id;
                    merged.tier = attempted.tier;
                    merged.note = attempted.note;
                    merged.credit = stored.value().credit;
                    return merged;
                }).build())) {
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
