package dev.reliablestore.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/** The SPI base class checks every argument and the closed state before calling the provider. */
class AbstractEntityStoreTest {

    private final RecordingStore store = new RecordingStore("Thing", new AtomicBoolean());

    @Test
    void badArgumentsNeverReachTheProvider() {
        List<Executable> calls = List.of(
                () -> store.get("a/b"), () -> store.get(null), () -> store.exists(""),
                () -> store.getMany(Arrays.asList("ok", "x\n")), () -> store.getMany(null),
                () -> store.save("x".repeat(256), "v"), () -> store.save("ok", null),
                () -> store.save("ok", "v", -1), () -> store.save("ok", null, 1), () -> store.save("\\", "v", 1),
                () -> store.delete("a/"), () -> store.delete("ok", -3), () -> store.delete("ok", Versioned.ABSENT),
                () -> store.getAll(null), () -> store.count(null),
                () -> store.saveBatch(null), () -> store.saveBatch(Map.of("ok", "v", "bad/", "v")),
                () -> store.saveBatch(Collections.singletonMap("ok", null)));
        for (Executable call : calls) {
            assertThat(catchThrowable(call::execute)).isInstanceOfAny(InvalidIdException.class,
                    IllegalArgumentException.class, NullPointerException.class);
        }
        assertThat(store.io).isEmpty();
    }

    @Test
    void messagesSayWhatWasWrong() {
        assertThatThrownBy(() -> store.save("ok", "v", -7)).hasMessageContaining("-7").hasMessageContaining("Thing");
        assertThatThrownBy(() -> store.delete("ok", 0)).hasMessageContaining("Thing/ok").hasMessageContaining("0");
        assertThatThrownBy(() -> store.saveBatch(Collections.singletonMap("k1", null))).hasMessageContaining("k1");
    }

    @Test
    void invalidTypeNamesAreRefusedAtConstruction() {
        assertThatThrownBy(() -> new RecordingStore("a/b", new AtomicBoolean())).isInstanceOf(InvalidIdException.class);
    }

    @Test
    void asyncTwinsReportBadArgumentsThroughTheFuture() throws Exception {
        Throwable t = catchThrowable(() -> store.getAsync("a/b").get(5, TimeUnit.SECONDS));
        assertThat(t).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidIdException.class);
        assertThat(store.saveAsync("ok", "v").get(5, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(store.io).containsExactly("save ok");
    }

    /**
     * An executor that refuses the task (saturated) fails the async twin with a retryable
     * StoreUnavailableException, as every failure is a PersistenceException; a refusal of a closed
     * store's call stays "closed".
     */
    @Test
    void anAsyncCallTheExecutorRefusesFailsAsUnavailable() {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blockerDone = new AtomicBoolean();
        Thread[] worker = new Thread[1];
        ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 1, TimeUnit.MINUTES, new SynchronousQueue<>(), r -> {
            worker[0] = new Thread(r, "the only async thread");
            worker[0].setDaemon(true);
            return worker[0];
        });
        try {
            pool.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                blockerDone.set(true);
            });
            AtomicBoolean ownerClosed = new AtomicBoolean();
            RecordingStore busy = new RecordingStore("Thing", ownerClosed, pool);
            List<CompletableFuture<?>> refused = List.of(busy.getAsync("a"), busy.saveAsync("a", "v"), busy.saveAsync("a", "v", 1),
                    busy.saveBatchAsync(Map.of("a", "v")), busy.deleteAsync("a"), busy.countAsync());
            for (CompletableFuture<?> f : refused) {
                assertThat(f).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class).havingCause()
                        .isInstanceOfSatisfying(StoreUnavailableException.class, e -> {
                            assertThat(e.isRetryable()).isTrue();
                            assertThat(e.outcomeUnknown()).isFalse();
                        })
                        .withMessageContaining("Thing").withMessageContaining("the store's executor refused the task")
                        .withCauseInstanceOf(RejectedExecutionException.class);
            }
            assertThat(busy.io).as("nothing ran").isEmpty();

            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> blockerDone.get() && worker[0].getState() == Thread.State.WAITING);
            assertThat(busy.saveAsync("a", "v")).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(1L);
            assertThat(busy.io).containsExactly("save a");

            ownerClosed.set(true);
            assertThat(busy.getAsync("a")).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
                    .withCauseInstanceOf(StoreClosedException.class);
        } finally {
            pool.shutdownNow();
        }
    }

    /** An executor shut down with the store's owner, racing its close: the call fails as closed, not as unavailable. */
    @Test
    void aRefusalRacingCloseFailsAsClosed() {
        AtomicBoolean ownerClosed = new AtomicBoolean();
        RecordingStore closing = new RecordingStore("Thing", ownerClosed, task -> {
            ownerClosed.set(true); // the owner closed between the store's check and the hand-off
            throw new RejectedExecutionException("shut down");
        });
        assertThat(closing.getAsync("a")).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(StoreClosedException.class);
    }

    @Test
    void closedStoresAndClosedOwnersRefuseBeforeTheProvider() {
        store.close();
        store.close();
        assertThat(store.closes).isEqualTo(1);
        assertThatThrownBy(() -> store.get("a")).isInstanceOf(StoreClosedException.class).hasMessageContaining("Thing");
        assertThatThrownBy(() -> store.saveBatch(Map.of())).isInstanceOf(StoreClosedException.class);
        AtomicBoolean owner = new AtomicBoolean();
        RecordingStore other = new RecordingStore("Other", owner);
        other.save("a", "v");
        owner.set(true);
        assertThatThrownBy(() -> other.count()).isInstanceOf(StoreClosedException.class);
        assertThat(store.io).isEmpty();
        assertThat(other.io).containsExactly("save a");
    }

    @Test
    void metricsCountCallsAndThrownConflicts() {
        store.get("a");
        store.save("a", "v");
        store.count();
        RecordingStore conflicting = new RecordingStore("C", new AtomicBoolean()) {
            @Override
            protected synchronized long doSave(String id, String entity, long expectedVersion) {
                throw new ConcurrencyConflictException("C", id, expectedVersion, 3);
            }
        };
        catchThrowable(() -> conflicting.save("a", "v", 1));
        PerformanceMetrics m = store.performanceMetrics();
        assertThat(m.reads()).isEqualTo(2);
        assertThat(m.writes()).isEqualTo(1);
        assertThat(conflicting.performanceMetrics().conflicts()).isEqualTo(1);
        assertThat(conflicting.performanceMetrics().writes()).isEqualTo(1);
    }
}
