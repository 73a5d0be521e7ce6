package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executor;
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

    private static Set<String> asyncThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("reliablestore-cluster-async-")).collect(Collectors.toSet());
    }
}
