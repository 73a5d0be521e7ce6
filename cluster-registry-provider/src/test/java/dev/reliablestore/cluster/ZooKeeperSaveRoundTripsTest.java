package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.testing.InProcessZooKeeper;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Round trips of a save on ZooKeeper, counted rather than read off the code: every call the
 * provider makes on its {@link ClusterRegistry} (one call of read/getValue/commit is one round trip,
 * its requests pipelined) and the snapshot reads the ZooKeeper registry makes inside a commit when
 * it cannot plan the batch from what it already knows.
 */
class ZooKeeperSaveRoundTripsTest {

    @RegisterExtension
    static final InProcessZooKeeper ZK = new InProcessZooKeeper();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** A registry client that counts the calls made on it. */
    static final class Counted {
        final ClusterRegistry real;
        final ClusterRegistry counting;
        final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        final AtomicInteger commitsAsked = new AtomicInteger();
        /** commitAsync answers are held until this completes (the commits themselves go ahead). */
        volatile CompletableFuture<Void> answers = CompletableFuture.completedFuture(null);

        Counted(ClusterRegistry real) {
            this.real = real;
            this.counting = (ClusterRegistry) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                    (proxy, method, args) -> {
                        // syncCommitAsync is ZooKeeper's commitAsync: one round trip, counted under that name
                        String name = method.getName().equals("syncCommitAsync") ? "commitAsync" : method.getName();
                        calls.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
                        try {
                            Object result = method.invoke(real, args);
                            if (name.equals("commitAsync")) {
                                commitsAsked.incrementAndGet();
                                CompletableFuture<Void> held = answers;
                                return ((CompletableFuture<?>) result).thenCompose(r -> held.thenApply(v -> r));
                            }
                            return result;
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        /** Round trips since the last call: provider calls that reach the servers, and the registry's own snapshot reads. */
        Map<String, Integer> roundTrips() {
            Map<String, Integer> out = new TreeMap<>();
            for (String name : List.of("read", "getValue", "values", "subkeys", "keyExists", "currentSequence", "commit", "commitAsync")) {
                AtomicInteger n = calls.get(name);
                if (n != null && n.get() > 0) {
                    out.put(name, n.getAndSet(0));
                }
            }
            int snapshots = (int) (snapshotReads() - snapshotsSeen);
            snapshotsSeen += snapshots;
            if (snapshots > 0) {
                out.put("snapshotRead", snapshots);
            }
            return out;
        }

        private long snapshotsSeen;

        void reset() {
            roundTrips();
        }

        private long snapshotReads() {
            try {
                Method m = real.getClass().getDeclaredMethod("snapshotReads");
                m.setAccessible(true);
                return (long) m.invoke(real);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("the ZooKeeper registry no longer counts its snapshot reads", e);
            }
        }
    }

    private Counted registry(String chroot) {
        Counted c = new Counted(ClusterRegistries.open("zookeeper://" + ZK.connectString() + chroot + "?acl=open"));
        open.add(c.real::close);
        return c;
    }

    private EntityStore<Customer> store(Counted registry, String chroot, boolean cache) {
        return store(registry, chroot, ClusterPersistenceConfiguration.builder().enableLocalCache(cache));
    }

    private EntityStore<Customer> store(Counted registry, String chroot, ClusterPersistenceConfiguration.Builder config) {
        // no zstd dictionary training: it lists and commits in the background, whenever enough samples came
        ClusterStoreFactory f = ClusterStoreFactory.onRegistry(config.enableCompression(false).clusterName("zookeeper://" + ZK.connectString() + chroot)
                .resourceGroupName(EmbeddedFixture.GROUP).registryKeyPath(EmbeddedFixture.KEY_PATH).build(), registry.counting);
        open.add(f);
        return f.store(Customer.class);
    }

    @Test
    void aSaveWithTheVersionItsCallerReadIsOneCommitAndNothingElse() {
        String chroot = ZK.newChroot("round-trips");
        Counted writer = registry(chroot);
        Counted reader = registry(chroot);
        EntityStore<Customer> first = store(writer, chroot, false);
        EntityStore<Customer> second = store(reader, chroot, false);
        first.save("o", Customer.of("o", 1));
        second.save("warm", Customer.of("warm", 1)); // the type's keys, as any store that wrote before knows them
        Versioned<Customer> read = second.get("o").orElseThrow();
        reader.reset();

        assertThat(second.save("o", Customer.of("o", 2), read.version())).isEqualTo(2);
        assertThat(reader.roundTrips()).isEqualTo(Map.of("commit", 1));
    }

    @Test
    void consecutiveSavesOfOneWriterAreOneCommitEach() {
        String chroot = ZK.newChroot("round-trips");
        Counted r = registry(chroot);
        EntityStore<Customer> customers = store(r, chroot, false);
        long v = customers.save("p", Customer.of("p", 0));
        r.reset();
        for (int i = 1; i <= 5; i++) {
            assertThat(customers.save("p", Customer.of("p", i))).isEqualTo(v + i);
            assertThat(r.roundTrips()).as("unconditional save %d", i).isEqualTo(Map.of("commit", 1));
        }
        assertThat(customers.save("p", Customer.of("p", 6), v + 5)).isEqualTo(v + 6);
        assertThat(r.roundTrips()).as("conditional save").isEqualTo(Map.of("commit", 1));
    }

    @Test
    void aSaveBatchOfKnownVersionsIsOneCommit() {
        String chroot = ZK.newChroot("round-trips");
        Counted r = registry(chroot);
        EntityStore<Customer> customers = store(r, chroot, false);
        Map<String, Customer> batch = new TreeMap<>();
        for (int i = 0; i < 20; i++) {
            batch.put("b" + i, Customer.of("b", i));
        }
        customers.saveBatch(batch);
        r.reset();
        assertThat(customers.saveBatch(batch)).containsEntry("b7", 2L);
        assertThat(r.roundTrips()).isEqualTo(Map.of("commit", 1));
    }

    @Test
    void pipelinedSaveAsyncCallsEachAreOneCommit() {
        String chroot = ZK.newChroot("round-trips");
        Counted r = registry(chroot);
        EntityStore<Customer> customers = store(r, chroot, false);
        Map<String, Customer> batch = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            batch.put("a" + i, Customer.of("a", i));
        }
        customers.saveBatch(batch);
        r.reset();
        List<CompletableFuture<Long>> saves = new ArrayList<>();
        batch.forEach((id, c) -> saves.add(customers.saveAsync(id, c)));
        saves.forEach(f -> assertThat(f.join()).isEqualTo(2L));
        assertThat(r.roundTrips()).isEqualTo(Map.of("commitAsync", 200));
    }

    /** Also with Asynchronous replication, which on ZooKeeper answers at the quorum commit as Synchronous does. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(ReplicationMode.class)
    void aThousandSaveAsyncCallsAreInFlightTogetherOnAPoolOfTwoThreads(ReplicationMode mode) {
        String chroot = ZK.newChroot("round-trips");
        Counted r = registry(chroot);
        ExecutorService two = Executors.newFixedThreadPool(2);
        open.add(two::shutdownNow);
        EntityStore<Customer> customers = store(r, chroot, ClusterPersistenceConfiguration.builder().enableLocalCache(false).executor(two)
                .replicationMode(mode));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ids.add("t" + i);
        }
        for (int from = 0; from < ids.size(); from += 250) {
            Map<String, Customer> batch = new TreeMap<>();
            ids.subList(from, from + 250).forEach(id -> batch.put(id, Customer.of(id, 1)));
            customers.saveBatch(batch);
        }
        r.answers = new CompletableFuture<>();
        int before = r.commitsAsked.get();
        List<CompletableFuture<Long>> saves = new ArrayList<>();
        ids.forEach(id -> saves.add(customers.saveAsync(id, Customer.of(id, 2))));
        // had each save waited on a pool thread for its answer, no more than two could be asked
        await().atMost(Duration.ofSeconds(30)).until(() -> r.commitsAsked.get() - before == 1000);
        r.answers.complete(null);
        saves.forEach(f -> assertThat(f.join()).isEqualTo(2L));
        assertThat(customers.get("t999")).map(Versioned::value).contains(Customer.of("t999", 2));
    }
}
