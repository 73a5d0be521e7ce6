package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.embedded.FailingDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * An embedded registry that stopped after a failed log write (here: a full disk, injected under
 * real files) cannot accept a write until it is reopened, so the provider must not retry: each
 * save used to retry for the whole backoff (about 7 s with the defaults) before failing as
 * "unavailable", which invites the caller to retry yet again.
 */
class RegistryFailStopTest {

    @TempDir
    Path dir;

    @Test
    void savesOnAStoppedRegistryFailAtOnceAndTheHealthCheckReportsIt() {
        FailingDisk disk = new FailingDisk();
        try (ClusterRegistry registry = disk.open(dir.resolve("registry"), Map.of());
             ClusterStoreFactory factory = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
            EntityStore<Customer> customers = factory.store(Customer.class);
            List<StoreEvent> events = new CopyOnWriteArrayList<>();
            customers.unwrap(ClusterPersistenceStore.class).addListener(events::add);
            customers.save("kept", Customer.of("kept", 1));
            disk.fill();

            for (String id : List.of("first", "second")) { // the write that failed, then one refused by the stopped registry
                Throwable failed = catchThrowable(() -> customers.save(id, Customer.of(id, 2)));
                assertThat(failed).as(id).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("save of Customer/" + id).hasMessageContaining("stopped accepting writes")
                        .hasMessageContaining("No space left on device").hasMessageContaining("reopen")
                        .hasCauseInstanceOf(RegistryStoppedException.class);
                assertThat(((PersistenceException) failed).isRetryable()).as(id).isFalse();
            }
            assertThat(customers.performanceMetrics().retries()).as("nothing was retried").isZero();
            assertThat(customers.get("kept")).as("reads keep working").isPresent();

            factory.runHealthCheck();
            await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e instanceof StoreEvent.HealthCheckFailed));
            assertThat(events).filteredOn(e -> e instanceof StoreEvent.HealthCheckFailed).first()
                    .extracting(e -> ((StoreEvent.HealthCheckFailed) e).reason()).asString()
                    .contains("stopped accepting writes").contains("No space left on device").contains("reopen");
            assertThat(registry.healthFaults()).anySatisfy(f -> {
                assertThat(f.id()).isEqualTo("embedded-registry-stopped");
                assertThat(f.description()).contains("No space left on device").contains("reopen");
            });
        }
    }
}
