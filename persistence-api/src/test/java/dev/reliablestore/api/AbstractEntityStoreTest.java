package dev.reliablestore.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

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
