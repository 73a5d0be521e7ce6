package dev.reliablestore.tck;

import java.time.Duration;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A map and a list that the thread which made them reads at once, and any other thread only once the
 * test has {@linkplain #release() released} them. A store that reads an async call's arguments on its
 * own threads, after the call returned, then sees the change the test made after the call every time,
 * whatever its executor: the race the test stands for is decided, with no sleep.
 */
final class TckHeldReads {

    private final Thread caller = Thread.currentThread();
    private final CountDownLatch released = new CountDownLatch(1);
    private final Duration timeout;

    TckHeldReads(Duration timeout) {
        this.timeout = timeout;
    }

    /** Lets other threads read; call it in a {@code finally}, so that no store thread waits out the timeout. */
    void release() {
        released.countDown();
    }

    private void holdOtherThreads() {
        if (Thread.currentThread() == caller) {
            return;
        }
        try {
            // past the timeout the read goes on: the test fails on what it then finds, rather than hangs
            released.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A mutable map with the entries, in their order; every read goes through its held entry set. */
    <V> Map<String, V> map(Map<String, V> entries) {
        Map<String, V> backing = new LinkedHashMap<>(entries);
        return new AbstractMap<>() {
            @Override
            public Set<Entry<String, V>> entrySet() {
                holdOtherThreads();
                return backing.entrySet();
            }

            @Override
            public V put(String key, V value) {
                return backing.put(key, value);
            }
        };
    }

    /** A mutable list with the items. */
    <E> List<E> list(List<E> items) {
        List<E> backing = new ArrayList<>(items);
        return new AbstractList<>() {
            @Override
            public E get(int index) {
                holdOtherThreads();
                return backing.get(index);
            }

            @Override
            public int size() {
                holdOtherThreads();
                return backing.size();
            }

            @Override
            public void add(int index, E element) {
                backing.add(index, element);
            }

            @Override
            public E set(int index, E element) {
                return backing.set(index, element);
            }

            @Override
            public E remove(int index) {
                return backing.remove(index);
            }
        };
    }
}
