package dev.reliablestore.cluster;

import dev.reliablestore.api.ObservableStore;
import dev.reliablestore.api.StoreEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A listener added while the health check fails gets that failure once, first; one that saw it
 * among the queued events does not get it twice; one removed (its store closed) gets nothing.
 */
class EventHubTest {

    @Test
    void aLateListenerGetsTheFailureInForceOnceAndARemovedOneNothing() throws Exception {
        EventHub hub = new EventHub("test");
        try {
            StoreEvent.HealthCheckFailed failed = new StoreEvent.HealthCheckFailed(Instant.now(), "disk failing (test)");
            CountDownLatch release = new CountDownLatch(1);
            List<StoreEvent> early = new CopyOnWriteArrayList<>();
            hub.add(new Object(), event -> {
                early.add(event);
                if (event == failed) {
                    try {
                        release.await(); // holds the event thread: what follows is queued behind the failure
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            hub.publish(failed);
            await().atMost(Duration.ofSeconds(10)).until(() -> early.contains(failed));
            List<StoreEvent> queuedBehind = new CopyOnWriteArrayList<>();
            hub.add(new Object(), queuedBehind::add);
            List<StoreEvent> removed = new CopyOnWriteArrayList<>();
            Object closedStore = new Object();
            hub.add(closedStore, removed::add);
            hub.removeOwner(closedStore); // its store closed before the event thread came to it
            List<StoreEvent> unregistered = new CopyOnWriteArrayList<>();
            ObservableStore.Registration gone = hub.add(new Object(), unregistered::add);
            gone.close();
            release.countDown();
            List<StoreEvent> later = new CopyOnWriteArrayList<>();
            hub.add(new Object(), later::add);
            StoreEvent.HealthRestored restored = new StoreEvent.HealthRestored(Instant.now());
            hub.publish(restored);
            await().atMost(Duration.ofSeconds(10)).until(() -> later.contains(restored));
            assertThat(queuedBehind).containsExactly(failed, restored);
            assertThat(later).containsExactly(failed, restored);
            assertThat(removed).isEmpty();
            assertThat(unregistered).isEmpty();
            assertThat(early).containsExactly(failed, restored);
        } finally {
            hub.close();
        }
    }

    /** A listener that throws an Error (an assertion, a class missing) or an undeclared checked exception keeps the event from none after it. */
    @Test
    void aListenerThrowingAnErrorDoesNotKeepTheEventFromTheOthers() {
        EventHub hub = new EventHub("test");
        try {
            hub.add(new Object(), event -> {
                throw new AssertionError("listener bug (injected; expected in the log)");
            });
            hub.add(new Object(), event -> sneakyThrow(new java.io.IOException("checked, thrown undeclared as Kotlin may (injected)")));
            List<StoreEvent> after = new CopyOnWriteArrayList<>();
            hub.add(new Object(), after::add);
            StoreEvent.HealthCheckFailed failed = new StoreEvent.HealthCheckFailed(Instant.now(), "disk failing (test)");
            hub.publish(failed);
            await().atMost(Duration.ofSeconds(10)).until(() -> after.contains(failed));
        } finally {
            hub.close();
        }
    }

    /** Throws a checked exception without declaring it, as code in other JVM languages may. */
    @SuppressWarnings("unchecked")
    static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }
}
