package dev.reliablestore.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatchEncoderTest {

    private static final boolean HELPERS = Runtime.getRuntime().availableProcessors() > 1;

    @Test
    void resultsComeInIndexOrderWhateverThreadEncodedThem() {
        int n = 1_000;
        String[] out = BatchEncoder.map(new String[n], i -> "v" + i);
        String[] expected = new String[n];
        for (int i = 0; i < n; i++) {
            expected[i] = "v" + i;
        }
        assertArrayEquals(expected, out);
    }

    @Test
    void aSmallBatchStaysOnTheCallingThread() {
        int n = BatchEncoder.PARALLEL_FROM - 1;
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        BatchEncoder.map(new Integer[n], i -> {
            threads.add(Thread.currentThread());
            return i;
        });
        assertEquals(Set.of(Thread.currentThread()), threads);
    }

    @Test
    void theFailureOfTheLowestIndexIsThrownEvenWhenAHigherOneFailedFirst() {
        assumeTrue(HELPERS, "one core: no helper, nothing runs out of order");
        int n = 400;
        CountDownLatch higherFailed = new CountDownLatch(1);
        Thread caller = Thread.currentThread();
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> BatchEncoder.map(new Integer[n], i -> {
            if (i == 123) {
                // held until another thread has failed at 250, so the higher failure is recorded first
                await().atMost(Duration.ofSeconds(10)).until(() -> higherFailed.getCount() == 0);
                throw new IllegalArgumentException("entity 123 on " + (Thread.currentThread() == caller ? "the caller" : "a helper"));
            }
            if (i == 250) {
                higherFailed.countDown();
                throw new IllegalArgumentException("entity 250");
            }
            return i;
        }));
        assertTrue(thrown.getMessage().startsWith("entity 123"), thrown.getMessage());
    }

    @Test
    void anErrorOrACheckedExceptionOnAnyThreadReachesTheCallerUnchanged() {
        int n = 200;
        AssertionError error = new AssertionError("out of something");
        IOException checked = new IOException("a codec that throws what it did not declare");
        for (int failing : new int[] {0, 99, 199}) {
            assertSame(error, assertThrows(AssertionError.class, () -> BatchEncoder.map(new Integer[n], i -> {
                if (i == failing) {
                    throw error;
                }
                return i;
            })));
            assertSame(checked, assertThrows(IOException.class, () -> BatchEncoder.map(new Integer[n], i -> {
                if (i == failing) {
                    throw BatchEncoderTest.<RuntimeException>sneaky(checked);
                }
                return i;
            })));
        }
    }

    @Test
    void aBusyPoolLeavesTheWholeBatchToTheCallerWhoNeverWaitsForIt() throws Exception {
        int parallelism = ForkJoinPool.commonPool().getParallelism();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch occupied = new CountDownLatch(parallelism);
        for (int i = 0; i < parallelism; i++) {
            ForkJoinPool.commonPool().execute(() -> {
                occupied.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            assertTrue(occupied.await(10, TimeUnit.SECONDS), "the common pool's threads are all blocked");
            int n = 500;
            AtomicInteger onCaller = new AtomicInteger();
            Thread caller = Thread.currentThread();
            Integer[] out = BatchEncoder.map(new Integer[n], i -> {
                if (Thread.currentThread() == caller) {
                    onCaller.incrementAndGet();
                }
                return i * 2;
            });
            assertEquals(n, onCaller.get());
            for (int i = 0; i < n; i++) {
                assertEquals(i * 2, out[i]);
            }
        } finally {
            release.countDown();
        }
    }

    @Test
    void theCallerWaitsForAHelperThatIsEncodingAndKeepsItsInterrupt() throws Exception {
        assumeTrue(HELPERS, "one core: no helper to wait for");
        int n = 64;
        Thread caller = Thread.currentThread();
        CountDownLatch helperEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread releaser = new Thread(() -> {
            // let the helper go only once the caller waits for it
            await().atMost(Duration.ofSeconds(10)).until(() -> caller.getState() == Thread.State.WAITING && helperEntered.getCount() == 0);
            release.countDown();
        });
        releaser.setDaemon(true);
        releaser.start();
        AtomicInteger onHelpers = new AtomicInteger();
        caller.interrupt();
        Integer[] out;
        try {
            out = BatchEncoder.map(new Integer[n], i -> {
                if (Thread.currentThread() == caller) {
                    // the caller slows down until a helper holds an entity, so the helper cannot be withdrawn unstarted
                    boolean interrupted = Thread.interrupted(); // the test's own interrupt: set aside while waiting here
                    boolean helping;
                    try {
                        helping = helperEntered.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                    assertTrue(helping, "a helper took an entity");
                    return i;
                }
                if (onHelpers.getAndIncrement() == 0) {
                    helperEntered.countDown();
                    try {
                        assertTrue(release.await(20, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
                return i;
            });
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
        } finally {
            Thread.interrupted();
            releaser.join(20_000);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(i, out[i]);
        }
        assertEquals(0, release.getCount(), "the helper was released while the caller waited for it");
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
