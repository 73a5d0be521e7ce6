package dev.reliablestore.registry.spi;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ChangeDispatcherTest {

    /** Records calls; can be held inside onBatch until released. */
    static final class Recorder implements ChangeListener {
        final List<Object> calls = new CopyOnWriteArrayList<>();
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);
        volatile boolean block;
        volatile boolean throwOnFirst;
        volatile Throwable errorOnFirst;

        @Override
        public void onBatch(ChangeBatch batch) {
            calls.add(batch.sequence());
            entered.countDown();
            if (block) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (throwOnFirst && calls.size() == 1) {
                throw new IllegalStateException("injected listener failure (expected in the log)");
            }
            if (errorOnFirst != null && calls.size() == 1) {
                ChangeDispatcherTest.<RuntimeException>sneakyThrow(errorOnFirst);
            }
        }

        @Override
        public void onResync(String reason) {
            calls.add("resync: " + reason);
        }
    }

    private static ChangeBatch batch(long seq) {
        return new ChangeBatch(seq, List.of());
    }

    @Test
    void deliversInOrder() {
        Recorder r = new Recorder();
        try (ChangeDispatcher d = new ChangeDispatcher("test", r, 100)) {
            for (long s = 1; s <= 50; s++) {
                d.offer(batch(s));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() == 50);
            assertThat(r.calls).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList());
        }
    }

    @Test
    void overflowDropsTheQueueAndSignalsResyncNeverAGap() throws Exception {
        Recorder r = new Recorder();
        r.block = true;
        try (ChangeDispatcher d = new ChangeDispatcher("slow", r, 3)) {
            d.offer(batch(1));
            assertThat(r.entered.await(10, TimeUnit.SECONDS)).isTrue();
            for (long s = 2; s <= 10; s++) {
                d.offer(batch(s)); // 2,3,4 fill the queue; 5 overflows: resync + 5; ...
            }
            r.release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.contains(10L));
            assertThat(r.calls.get(0)).isEqualTo(1L);
            assertThat(r.calls.get(1)).asString().startsWith("resync: ").contains("fell behind by more than 3");
            // after the resync: a contiguous tail, in order
            List<Object> tail = r.calls.subList(2, r.calls.size());
            assertThat(tail).isNotEmpty().isSortedAccordingTo((a, b) -> Long.compare((Long) a, (Long) b));
            assertThat((Long) tail.get(tail.size() - 1)).isEqualTo(10L);
            assertThat(tail).hasSize((int) (10L - (Long) tail.get(0) + 1));
        }
    }

    @Test
    void explicitResyncReplacesQueuedBatches() throws Exception {
        Recorder r = new Recorder();
        r.block = true;
        try (ChangeDispatcher d = new ChangeDispatcher("reconnect", r, 100)) {
            d.offer(batch(1));
            assertThat(r.entered.await(10, TimeUnit.SECONDS)).isTrue();
            d.offer(batch(2));
            d.resync("session expired");
            d.offer(batch(7));
            r.release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() == 3);
            assertThat(r.calls).containsExactly(1L, "resync: session expired", 7L);
        }
    }

    @Test
    void aThrowingListenerKeepsReceiving() {
        Recorder r = new Recorder();
        r.throwOnFirst = true;
        try (ChangeDispatcher d = new ChangeDispatcher("throwing", r, 10)) {
            d.offer(batch(1));
            d.offer(batch(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() == 2);
        }
    }

    /** A listener recursing too deep keeps its watch; the JVM failing mid-call is said with a resync, never a silent stop. */
    @Test
    void aListenerCallEndedByAVirtualMachineErrorKeepsTheWatchAndIsNeverASilentGap() {
        Recorder deep = new Recorder();
        deep.errorOnFirst = new StackOverflowError("injected (expected in the log)");
        try (ChangeDispatcher d = new ChangeDispatcher("deep", deep, 10)) {
            d.offer(batch(1));
            d.offer(batch(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> deep.calls.size() == 2);
            assertThat(deep.calls).containsExactly(1L, 2L);
        }
        Recorder starved = new Recorder();
        starved.errorOnFirst = new OutOfMemoryError("injected (expected in the log)");
        try (ChangeDispatcher d = new ChangeDispatcher("starved", starved, 10)) {
            d.offer(batch(1));
            d.offer(batch(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> starved.calls.size() == 3);
            assertThat(starved.calls.get(0)).isEqualTo(1L);
            assertThat(starved.calls.get(1)).asString().startsWith("resync: ").contains("OutOfMemoryError").contains("batch 1");
            assertThat(starved.calls.get(2)).isEqualTo(2L);
        }
    }

    /** Throws a checked exception without declaring it, as code in other JVM languages may. */
    @SuppressWarnings("unchecked")
    static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    /** A checked exception thrown undeclared (Kotlin, @SneakyThrows) keeps the watch, as any throw does. */
    @Test
    void aListenerThrowingACheckedExceptionUndeclaredKeepsReceiving() {
        Recorder r = new Recorder();
        r.errorOnFirst = new java.io.IOException("injected (expected in the log)");
        try (ChangeDispatcher d = new ChangeDispatcher("kotlin", r, 10)) {
            d.offer(batch(1));
            d.offer(batch(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> r.calls.size() == 2);
        }
    }

    @Test
    void sequencesMustIncrease() {
        try (ChangeDispatcher d = new ChangeDispatcher("order", new Recorder(), 10)) {
            d.offer(batch(5));
            assertThatThrownBy(() -> d.offer(batch(5))).isInstanceOf(IllegalStateException.class).hasMessageContaining("5");
        }
        assertThatThrownBy(() -> new ChangeDispatcher("bad", new Recorder(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void closeWaitsForACallInProgressAndStopsDelivery() throws Exception {
        Recorder r = new Recorder();
        r.block = true;
        ChangeDispatcher d = new ChangeDispatcher("closing", r, 10);
        d.offer(batch(1));
        assertThat(r.entered.await(10, TimeUnit.SECONDS)).isTrue();
        d.offer(batch(2));
        Thread closer = new Thread(d::close);
        closer.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> closer.getState() == Thread.State.TIMED_WAITING || closer.getState() == Thread.State.WAITING);
        assertThat(closer.isAlive()).as("close waits for the listener").isTrue();
        r.release.countDown();
        closer.join(10_000);
        assertThat(closer.isAlive()).isFalse();
        d.offer(batch(3));
        assertThat(d.backlog()).isZero();
        assertThat(r.calls).containsExactly(1L);
    }
}
