package dev.reliablestore.cluster;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.spi.ClusterRegistryBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Registries opened once per process: callers of one URI and options share one opening. */
class SharedRegistriesTest {

    @TempDir
    Path dir;

    /**
     * A backend ({@code gated:<dir>}) whose next opening, once armed, waits for a gate and then fails,
     * as an embedded directory that another registry holds until a moment later; every other opening
     * opens the embedded registry of {@code <dir>}. Listed in this module's test resources.
     */
    public static final class GatedBackend implements ClusterRegistryBackend {
        static volatile CountDownLatch gate;
        static final CountDownLatch ENTERED = new CountDownLatch(1);

        @Override
        public String scheme() {
            return "gated";
        }

        @Override
        public ClusterRegistry open(URI uri, Map<String, String> options) {
            CountDownLatch g = gate;
            if (g != null) {
                gate = null;
                ENTERED.countDown();
                try {
                    g.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new RegistryUnavailableException("the directory was held by another registry (test)", null);
            }
            return ClusterRegistries.open("embedded:" + uri.getPath());
        }
    }

    @Test
    void aCallerThatWaitedForAnotherCallersOpeningWhichFailedTriesOnceMoreItself() throws Exception {
        String uri = "gated:" + dir.resolve("registry");
        CountDownLatch gate = new CountDownLatch(1);
        GatedBackend.gate = gate;
        AtomicReference<Throwable> firstFailed = new AtomicReference<>();
        Thread first = new Thread(() -> {
            try {
                SharedRegistries.hold(uri, Map.of()).close();
                firstFailed.set(new AssertionError("the first opening should have failed"));
            } catch (RuntimeException e) {
                firstFailed.set(e);
            }
        });
        first.start();
        assertThat(GatedBackend.ENTERED.await(30, TimeUnit.SECONDS)).isTrue();
        AtomicReference<SharedRegistries.Hold> held = new AtomicReference<>();
        AtomicReference<Throwable> secondFailed = new AtomicReference<>();
        Thread second = new Thread(() -> {
            try {
                held.set(SharedRegistries.hold(uri, Map.of()));
            } catch (RuntimeException e) {
                secondFailed.set(e);
            }
        });
        second.start();
        // the second caller waits for the opening the first one started
        await().atMost(Duration.ofSeconds(30)).until(() -> second.getState() == Thread.State.WAITING);
        gate.countDown();
        first.join(30_000);
        second.join(30_000);

        assertThat(firstFailed.get()).isInstanceOf(RegistryUnavailableException.class);
        assertThat(secondFailed.get()).isNull();
        try (SharedRegistries.Hold h = held.get()) {
            assertThat(h.registry().keyExists(RegistryPath.root())).isTrue();
        }
    }
}
