package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The async twins run on the factory's own pool, which dies with the factory, or on an executor the caller supplies and keeps. */
class FactoryExecutorTest {

    @TempDir
    Path dir;

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
    @Test
    void asyncSavesInFlightWhenTheFactoryClosesAreAnsweredAsTheyLanded() {
        List<CompletableFuture<Long>> saves = new ArrayList<>();
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).build())) {
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
        AtomicBoolean refuse = new AtomicBoolean();
        Executor callers = task -> {
            if (refuse.get()) {
                throw new RejectedExecutionException("shut down");
            }
            task.run();
        };
        try (ClusterStoreFactory factory = ClusterStoreFactory.open(EmbeddedFixture.config(dir).executor(callers).build())) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            customers.save("c", Customer.of("c", 0));
            refuse.set(true);
            assertThat(customers.saveAsync("c", Customer.of("c", 1), 1)).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(2L);
            assertThat(customers.get("c").orElseThrow().value()).isEqualTo(Customer.of("c", 1));
        }
    }

    private static Set<String> asyncThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("reliablestore-cluster-async-")).collect(Collectors.toSet());
    }
}
