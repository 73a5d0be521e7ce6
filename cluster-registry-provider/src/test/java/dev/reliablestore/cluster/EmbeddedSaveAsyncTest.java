package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On the embedded registry, whose commitAsync makes a batch readable before it is durable, a saveAsync with
 * Synchronous replication must commit as a SYNC save does: readable only once durable, with the other
 * committers' SYNC batches still waiting for their fsync kept out of sight too.
 */
class EmbeddedSaveAsyncTest {

    @TempDir
    Path dir;

    @Test
    void aSynchronousSaveAsyncOnTheEmbeddedRegistryCommitsSync() throws Exception {
        List<String> calls = new CopyOnWriteArrayList<>();
        try (ClusterRegistry real = ClusterRegistries.open(EmbeddedFixture.uri(dir), Map.of("asyncFlushInterval", "5s"))) {
            ClusterRegistry recording = (ClusterRegistry) Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().startsWith("commit")) {
                            calls.add(method.getName());
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir)
                    .replicationMode(ReplicationMode.SYNCHRONOUS).build(), recording)) {
                EntityStore<Customer> customers = f.store(Customer.class);
                long v1 = customers.save("a", Customer.of("Ada", 1));
                calls.clear();
                long v2 = customers.saveAsync("a", Customer.of("Ada", 2), v1).get();
                assertThat(v2).isGreaterThan(v1);
                assertThat(calls).as("a SYNC commit, never the embedded registry's ASYNC commitAsync").contains("commit")
                        .doesNotContain("commitAsync");
                assertThat(customers.get("a").orElseThrow().value().balance()).isEqualTo(2);
            }
        }
    }
}
