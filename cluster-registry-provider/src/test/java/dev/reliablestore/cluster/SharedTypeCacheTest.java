package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Watch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local cache is one per entity type per factory, shared by every store of the type: one cache,
 * one change-feed watch, whatever the number of {@code store()} calls; the watch closes with the
 * last store of the type.
 */
class SharedTypeCacheTest {

    @TempDir
    Path dir;

    /** Counts the watches opened and closed on the type key of Customer. */
    static final class Watches {
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();

        int open() {
            return opened.get() - closed.get();
        }

        ClusterRegistry around(ClusterRegistry registry) {
            InvocationHandler h = (proxy, method, args) -> {
                Object result = invoke(registry, method, args);
                if (method.getName().equals("watch") && ((RegistryPath) args[0]).toString().endsWith("Entities/Customer")) {
                    opened.incrementAndGet();
                    Watch w = (Watch) result;
                    return Proxy.newProxyInstance(Watch.class.getClassLoader(), new Class<?>[]{Watch.class}, (p, m, a) -> {
                        if (m.getName().equals("close")) {
                            closed.incrementAndGet();
                        }
                        return invoke(w, m, a);
                    });
                }
                return result;
            };
            return (ClusterRegistry) Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(), new Class<?>[]{ClusterRegistry.class}, h);
        }

        private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    @Test
    void everyStoreOfATypeSharesOneCacheAndOneWatch() {
        Watches watches = new Watches();
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(Duration.ofHours(1)).build();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             ClusterStoreFactory factory = ClusterStoreFactory.onRegistry(config, watches.around(registry))) {
            List<EntityStore<Customer>> stores = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                stores.add(factory.store(Customer.class));
            }
            assertThat(watches.opened.get()).as("watches opened by 20 store() calls").isEqualTo(1);

            long v = stores.get(0).save("c", Customer.of("a", 1));
            EntityStore<Customer> another = stores.get(7);
            assertThat(another.get("c").orElseThrow().version()).isEqualTo(v);
            assertThat(another.performanceMetrics().cacheHits()).as("the save filled the type's cache").isEqualTo(1);
            assertThat(another.performanceMetrics().cacheMisses()).isZero();
            stores.get(3).delete("c");
            assertThat(another.get("c")).as("the delete's tombstone is the type's too").isEmpty();
            assertThat(another.performanceMetrics().cacheHits()).isEqualTo(2);
            assertThat(another.exists("c")).as("the tombstone answers exists too").isFalse();
            assertThat(another.performanceMetrics().cacheHits()).isEqualTo(3);
            assertThat(another.exists("never-written")).isFalse();
            assertThat(another.performanceMetrics().cacheMisses()).as("an exists the cache could not answer").isEqualTo(1);

            for (EntityStore<Customer> s : stores.subList(1, 20)) {
                s.close();
            }
            assertThat(watches.open()).as("the last store of the type keeps the watch").isEqualTo(1);
            assertThat(factory.caches().open()).isEqualTo(1);
            stores.get(0).save("d", Customer.of("d", 4));
            assertThat(stores.get(0).get("d")).isPresent();
            stores.get(0).close();
            assertThat(watches.open()).as("closed with the last store").isZero();
            assertThat(factory.caches().open()).isZero();

            EntityStore<Customer> reopened = factory.store(Customer.class);
            assertThat(watches.opened.get()).isEqualTo(2);
            assertThat(reopened.get("d").orElseThrow().value().name()).isEqualTo("d");
            factory.store(Customer.class);
        }
        assertThat(watches.open()).as("the factory closed its stores and with them the watch").isZero();
        assertThat(watches.opened.get()).isEqualTo(2);
    }

    @Test
    void storesOfOneTypeOnTwoFactoriesHaveACacheEach() {
        Watches watches = new Watches();
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).enableLocalCache(true).build();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             ClusterStoreFactory a = ClusterStoreFactory.onRegistry(config, watches.around(registry));
             ClusterStoreFactory b = ClusterStoreFactory.onRegistry(config, watches.around(registry))) {
            a.store(Customer.class);
            a.store(Customer.class);
            b.store(Customer.class);
            assertThat(watches.opened.get()).isEqualTo(2);
        }
        assertThat(watches.open()).isZero();
    }
}
