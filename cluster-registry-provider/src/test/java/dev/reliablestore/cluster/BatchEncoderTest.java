package dev.reliablestore.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatchEncoderTest {

    @Test
    void resultsComeInIndexOrderWhateverThreadEncodedThem() {
        int n = 1_000;
        String[] out = BatchEncoder.map(n, new String[n], i -> "v" + i);
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
        BatchEncoder.map(n, new Integer[n], i -> {
            threads.add(Thread.currentThread());
            return i;
        });
        assertEquals(Set.of(Thread.currentThread()), threads);
    }

    @Test
    void theFailureOfTheLowestIndexIsThrownAsTheSerialLoopWould() {
        int n = 400;
        for (int round = 0; round < 50; round++) {
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> BatchEncoder.map(n, new Integer[n], i -> {
                if (i == 397 || i == 123 || i == 250) {
                    throw new IllegalArgumentException("entity " + i);
                }
                return i;
            }));
            assertEquals("entity 123", thrown.getMessage());
        }
    }

    @Test
    void anErrorOnAnyThreadReachesTheCaller() {
        int n = 200;
        AssertionError e = new AssertionError("out of something");
        for (int failing : new int[] {0, 99, 199}) {
            assertSame(e, assertThrows(AssertionError.class, () -> BatchEncoder.map(n, new Integer[n], i -> {
                if (i == failing) {
                    throw e;
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
            Integer[] out = BatchEncoder.map(n, new Integer[n], i -> {
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
    void anInterruptWhileWaitingForAHelperIsKept() {
        int n = 64;
        Thread.currentThread().interrupt();
        try {
            Integer[] out = BatchEncoder.map(n, new Integer[n], i -> i);
            assertEquals(n - 1, out[n - 1]);
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }
}
