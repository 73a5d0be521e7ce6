package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The async twins run on the factory's own pool, which dies with the factory, or on an executor the caller supplies and keeps. */
class FactoryExecutorTest {

    @TempDir
    Path dir;

    /**
     * A factory whose opening fails after it subscribed to the registry's membership (here: an audit
     * log path that is a file) lets the subscription go: on a registry the caller keeps, its listener
     * (and the threads it starts) outlived the failed open.
     */
    @Test
    void aFactoryWhoseOpeningFailsLetsGoOfItsMembershipListener() throws Exception {
        java.nio.file.Path notADirectory = java.nio.file.Files.writeString(dir.resolve("audit-is-a-file"), "x");
        List<dev.reliablestore.registry.Subscription> subscriptions = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger closedSubscriptions = new AtomicInteger();
        try (dev.reliablestore.registry.ClusterRegistry real = EmbeddedFixture.openRegistry(dir.resolve("registry"))) {
            dev.reliablestore.registry.ClusterRegistry recording = (dev.reliablestore.registry.ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {dev.reliablestore.registry.ClusterRegistry.class}, (proxy, method, args) -> {
                        Object result;
                        try {
                            result = method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (method.getName().equals("addMembershipListener")) {
                            dev.reliablestore.registry.Subscription inner = (dev.reliablestore.registry.Subscription) result;
                            dev.reliablestore.registry.Subscription counted = () -> {
                                closedSubscriptions.incrementAndGet();
                                inner.close();
                            };
                            subscriptions.add(counted);
                            return counted;
                        }
                        return result;
                    });
            ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableAuditLogging(true).auditLogPath(notADirectory).build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClusterStoreFactory.onRegistry(config, recording))
                    .isInstanceOf(dev.reliablestore.api.PersistenceException.class);
            assertThat(subscriptions).hasSize(1);
            assertThat(closedSubscriptions).as("the failed factory's membership listener").hasValue(1);
        }
    }

    @Test
    void theFactorysOwnPoolEndsWithTheFactory() {
        Set<String> before = asyncThreads();
        Set<String> used;
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.saveAsync("c", Customer.of("c", 1)).join();
            used = asyncThreads();
            used.removeAll(before);
            assertThat(used).isNotEmpty();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> asyncThreads().stream().noneMatch(used::contains));
    }

    @Test
    void aSuppliedExecutorRunsTheAsyncTwins() {
        AtomicInteger ran = new AtomicInteger();
        Executor callers = task -> {
            ran.incrementAndGet();
            task.run();
        };
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).executor(callers).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.saveAsync("c", Customer.of("c", 1)).join();
            assertThat(customers.getAsync("c").join()).isPresent();
        }
        assertThat(ran).hasValue(2);
    }

    /**
     * Saves still in flight when the factory closes are answered as they landed: closing the
     * registry it opened makes them durable, and the answers are not refused by a pool shut down first.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void asyncSavesInFlightWhenTheFactoryClosesAreAnsweredAsTheyLanded(boolean audited) {
        List<CompletableFuture<Long>> saves = new ArrayList<>();
        ClusterPersistenceConfiguration.Builder config = EmbeddedFixture.config(dir);
        if (audited) { // the answers audit what they acknowledge: the audit log closes after them
            config.enableAuditLogging(true).auditLogPath(dir.resolve("audit"));
        }
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(config.build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            for (int i = 0; i < 200; i++) {
                customers.save("c" + i, Customer.of("c" + i, 0)); // a known version: saveAsync goes the pipelined way
            }
            for (int i = 0; i < 200; i++) {
                saves.add(customers.saveAsync("c" + i, Customer.of("c" + i, 1), 1));
            }
        }
        for (CompletableFuture<Long> save : saves) {
            assertThat(save).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(2L);
        }
        if (audited) {
            try (var files = java.nio.file.Files.list(dir.resolve("audit"))) {
                Path log = files.filter(f -> f.getFileName().toString().endsWith(".log")).findFirst().orElseThrow();
                assertThat(dev.reliablestore.cluster.audit.AuditLog.read(log)).filteredOn(r -> r.version() == 2).hasSize(200);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            for (int i = 0; i < 200; i++) {
                assertThat(customers.get("c" + i).orElseThrow().version()).isEqualTo(2);
            }
        }
    }

    /** A supplied executor shut down while writes are in flight: the answers still say what landed. */
    @Test
    void anExecutorThatRefusesAnswersDoesNotFailWritesThatLanded() {
        RefusingExecutor callers = new RefusingExecutor("shut down");
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).executor(callers).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("c", Customer.of("c", 0));
            callers.refuse(true);
            assertThat(customers.saveAsync("c", Customer.of("c", 1), 1)).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(2L);
            assertThat(customers.get("c").orElseThrow().value()).isEqualTo(Customer.of("c", 1));
        }
    }

    /** An executor that refuses a write it must run (ASYNC replication runs it whole there) fails it through its future, unsent. */
    @Test
    void anAsyncWriteTheExecutorRefusesFailsThroughItsFuture() {
        RefusingExecutor callers = new RefusingExecutor("saturated");
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).executor(callers)
                .replicationMode(ReplicationMode.ASYNCHRONOUS).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("c", Customer.of("c", 0));
            callers.refuse(true);
            CompletableFuture<Long> save = customers.saveAsync("c", Customer.of("c", 1), 1);
            assertThat(save).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                    .havingCause().isInstanceOfSatisfying(StoreUnavailableException.class, e -> assertThat(e.outcomeUnknown()).isFalse())
                    .withMessageContaining("the executor refused the task").withCauseInstanceOf(RejectedExecutionException.class);
            callers.refuse(false);
            assertThat(customers.get("c").orElseThrow().version()).as("nothing was sent").isEqualTo(1);
        }
    }

    /**
     * A supplied executor that is saturated (one thread, no queue, kept busy) refuses the async twins'
     * tasks: each fails through its future with a retryable StoreUnavailableException, as the
     * synchronous call's failures are PersistenceExceptions, never with the raw RejectedExecutionException;
     * once the executor has room again the next call succeeds.
     */
    @ParameterizedTest
    @ValueSource(strings = {"SYNCHRONOUS", "ASYNCHRONOUS"})
    void aSaturatedSuppliedExecutorFailsTheAsyncTwinsAsUnavailable(String replication) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blockerDone = new AtomicBoolean();
        Thread[] worker = new Thread[1];
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES, new SynchronousQueue<>(), r -> {
            worker[0] = new Thread(r, "the only caller thread");
            worker[0].setDaemon(true);
            return worker[0];
        });
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).executor(pool)
                .replicationMode(ReplicationMode.valueOf(replication)).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("c", Customer.of("c", 0));
            pool.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                blockerDone.set(true);
            });
            List<CompletableFuture<?>> refused = new ArrayList<>(List.of(customers.getAsync("c"), customers.saveAsync("d", Customer.of("d", 1)),
                    customers.saveBatchAsync(java.util.Map.of("e", Customer.of("e", 1))), customers.countAsync()));
            if (replication.equals("ASYNCHRONOUS")) {
                // a save of a known version runs whole on the executor (RegistryGateway); SYNCHRONOUS sends it without it
                refused.add(customers.saveAsync("c", Customer.of("c", 1), 1));
            }
            for (CompletableFuture<?> f : refused) {
                assertThat(f).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .havingCause().isInstanceOfSatisfying(StoreUnavailableException.class, e -> {
                            assertThat(e.isRetryable()).isTrue();
                            assertThat(e.outcomeUnknown()).isFalse();
                        })
                        .withMessageContaining("executor refused the task").withCauseInstanceOf(RejectedExecutionException.class);
            }
            assertThat(customers.get("c").orElseThrow().version()).as("nothing was sent").isEqualTo(1);
            assertThat(customers.exists("d")).isFalse();

            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> blockerDone.get() && worker[0].getState() == Thread.State.WAITING);
            assertThat(customers.saveAsync("c", Customer.of("c", 1), 1)).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(2L);
            await().atMost(Duration.ofSeconds(10)).until(() -> pool.getActiveCount() == 0 && worker[0].getState() == Thread.State.WAITING);
            assertThat(customers.getAsync("c")).succeedsWithin(Duration.ofSeconds(10)).satisfies(v -> assertThat(v.orElseThrow().version()).isEqualTo(2));
        } finally {
            pool.shutdownNow();
        }
    }

    private static Set<String> asyncThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("reliablestore-cluster-async-")).collect(Collectors.toSet());
    }
}
