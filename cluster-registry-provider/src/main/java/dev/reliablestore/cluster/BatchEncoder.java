package dev.reliablestore.cluster;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Encodes the entities of one batch (JSON, then compression and encryption) on the calling thread
 * and, for a large batch, on idle threads of the common pool as well.
 *
 * <p>Why: a {@code saveBatch} of 100 entities spends most of its CPU time encoding them one after
 * the other while the registry (the disk, or the ZooKeeper ensemble) waits for the batch, so a
 * second core that is idle meanwhile shortens the call. The calling thread never waits for a
 * helper that has not started: it takes entities one at a time from a shared counter, and when
 * none are left it withdraws the helpers still queued and waits only for those already encoding
 * one entity. So a busy or starved pool costs nothing but the submission.
 *
 * <p>Failures are reported as the serial loop would have: the one of the lowest index (entities
 * above a failed one are not encoded any more, those below still are, so the lowest is known).
 */
final class BatchEncoder {

    /** Below this many entities the batch is encoded on the calling thread alone (a hand-off costs more than it saves). */
    static final int PARALLEL_FROM = 16;

    /** Helpers for one batch: every other core, at most three (beyond that the registry, not encoding, bounds a batch). */
    private static final int MAX_HELPERS = Math.min(3, Runtime.getRuntime().availableProcessors() - 1);

    private BatchEncoder() {
    }

    /**
     * {@code step} applied to 0..n-1, the results in index order.
     *
     * @param step thread-safe; it may run on any thread
     * @throws RuntimeException the failure of the lowest index, as {@code step} threw it (an
     *                          {@link Error} likewise)
     */
    static <R> R[] map(int n, R[] out, IntFunction<R> step) {
        int helpers = Math.min(MAX_HELPERS, n / PARALLEL_FROM);
        if (helpers <= 0) {
            for (int i = 0; i < n; i++) {
                out[i] = step.apply(i);
            }
            return out;
        }
        Run<R> run = new Run<>(n, out, step);
        Helper[] started = new Helper[helpers];
        int submitted = 0;
        for (; submitted < helpers; submitted++) {
            Helper h = new Helper(run);
            try {
                ForkJoinPool.commonPool().execute(h);
            } catch (RejectedExecutionException shuttingDown) {
                break;
            }
            started[submitted] = h;
        }
        run.drain();
        for (int i = 0; i < submitted; i++) {
            started[i].withdrawOrAwait();
        }
        run.throwFirstFailure();
        return out;
    }

    /** The shared state of one batch's encoding. */
    private static final class Run<R> {
        private final int n;
        private final R[] out;
        private final IntFunction<R> step;
        private final AtomicInteger next = new AtomicInteger();
        private final Throwable[] failures;
        /** No entity above this index is encoded any more: one at it failed. */
        private volatile int limit = Integer.MAX_VALUE;

        Run(int n, R[] out, IntFunction<R> step) {
            this.n = n;
            this.out = out;
            this.step = step;
            this.failures = new Throwable[n];
        }

        void drain() {
            for (int i; (i = next.getAndIncrement()) < n; ) {
                if (i > limit) {
                    return;
                }
                try {
                    out[i] = step.apply(i);
                } catch (RuntimeException | Error e) { // an Error too: on a helper it would be lost
                    failures[i] = e;
                    synchronized (this) {
                        limit = Math.min(limit, i);
                    }
                }
            }
        }

        /** Called once every helper is withdrawn or done, which orders their writes before these reads. */
        void throwFirstFailure() {
            for (int i = 0; i < n; i++) {
                if (failures[i] instanceof RuntimeException e) {
                    throw e;
                }
                if (failures[i] instanceof Error e) {
                    throw e;
                }
            }
        }
    }

    /** One pool task of a batch: it encodes until no entity is left, unless the caller withdrew it first. */
    private static final class Helper implements Runnable {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int DONE = 2;
        private static final int WITHDRAWN = 3;

        private final Run<?> run;
        private final AtomicInteger state = new AtomicInteger(QUEUED);

        Helper(Run<?> run) {
            this.run = run;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return;
            }
            try {
                run.drain();
            } finally {
                synchronized (this) {
                    state.set(DONE);
                    notifyAll();
                }
            }
        }

        /** Returns once this helper will never touch the batch again: withdrawn before it started, or done. */
        void withdrawOrAwait() {
            if (state.compareAndSet(QUEUED, WITHDRAWN)) {
                return;
            }
            boolean interrupted = false;
            synchronized (this) {
                // it is encoding at most one entity (none are left to take), so this wait is short;
                // it cannot be cut by an interrupt because the helper still writes into the results
                while (state.get() != DONE) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
