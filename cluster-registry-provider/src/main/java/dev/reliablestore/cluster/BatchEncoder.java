package dev.reliablestore.cluster;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
 * one entity. So a busy or starved pool costs the caller nothing but the submission, and a
 * withdrawn task left in the pool's queue holds no reference to the batch.
 *
 * <p>The codec runs on pool threads too, so it sees their thread context (context class loader,
 * thread-locals such as a logging MDC), and a failure raised there carries that thread's stack.
 *
 * <p>Failures are reported as the serial loop would have: the one of the lowest index (entities
 * above a failed one are not encoded any more, those below still are, so the lowest is known).
 */
final class BatchEncoder {

    /** Below this many entities the batch is encoded on the calling thread alone (a hand-off costs more than it saves). */
    static final int PARALLEL_FROM = 16;

    /**
     * Helpers for one batch: one per {@link #PARALLEL_FROM} entities, at most one per other core and
     * three in all (beyond that the registry, not encoding, bounds a batch).
     */
    private static final int MAX_HELPERS = Math.min(3, Runtime.getRuntime().availableProcessors() - 1);

    private BatchEncoder() {
    }

    /**
     * {@code out}, filled with {@code step} applied to each of its indexes.
     *
     * @param step thread-safe; it may run on any thread
     * @throws RuntimeException the failure of the lowest index, as {@code step} threw it (whatever
     *                          its kind)
     */
    static <R> R[] map(R[] out, IntFunction<R> step) {
        int n = out.length;
        int helpers = Math.min(MAX_HELPERS, n / PARALLEL_FROM);
        if (helpers <= 0) {
            for (int i = 0; i < n; i++) {
                out[i] = step.apply(i);
            }
            return out;
        }
        Run<R> run = new Run<>(out, step);
        Helper[] submitted = new Helper[helpers];
        int count = 0;
        try {
            for (; count < helpers; count++) {
                Helper h = new Helper(run);
                try {
                    ForkJoinPool.commonPool().execute(h);
                } catch (RejectedExecutionException shuttingDown) {
                    break;
                }
                submitted[count] = h;
            }
            run.drain();
        } finally {
            for (int i = 0; i < count; i++) {
                submitted[i].withdrawOrAwait();
            }
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
        private final AtomicInteger limit = new AtomicInteger(Integer.MAX_VALUE);

        Run(R[] out, IntFunction<R> step) {
            this.n = out.length;
            this.out = out;
            this.step = step;
            this.failures = new Throwable[n];
        }

        void drain() {
            for (int i; (i = next.getAndIncrement()) < n; ) {
                if (i > limit.get()) {
                    return;
                }
                try {
                    out[i] = step.apply(i);
                } catch (Throwable e) { // any kind: on a helper it would be lost, on the caller it must wait for the helpers
                    failures[i] = e;
                    int failed = i;
                    limit.accumulateAndGet(failed, Math::min);
                }
            }
        }

        /** Called once every helper is withdrawn or done, which orders their writes before these reads. */
        void throwFirstFailure() {
            for (int i = 0; i < n; i++) {
                if (failures[i] != null) {
                    throw BatchEncoder.<RuntimeException>unchanged(failures[i]);
                }
            }
        }
    }

    /** Throws {@code t} as it is, checked or not, as the serial loop would have let it through. */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E unchanged(Throwable t) throws E {
        throw (E) t;
    }

    /** One pool task of a batch: it encodes until no entity is left, unless the caller withdrew it first. */
    private static final class Helper implements Runnable {
        /** The batch, until the helper starts or the caller withdraws it: a task still queued in a busy pool holds nothing. */
        private final AtomicReference<Run<?>> run;
        private boolean done;

        Helper(Run<?> run) {
            this.run = new AtomicReference<>(run);
        }

        @Override
        public void run() {
            Run<?> r = run.getAndSet(null);
            if (r == null) {
                return;
            }
            try {
                r.drain();
            } finally {
                synchronized (this) {
                    done = true;
                    notifyAll();
                }
            }
        }

        /** Returns once this helper will never touch the batch again: withdrawn before it started, or done. */
        void withdrawOrAwait() {
            if (run.getAndSet(null) != null) {
                return;
            }
            boolean interrupted = false;
            synchronized (this) {
                // it is encoding at most one entity (none are left to take), so this wait is short;
                // it cannot be cut by an interrupt because the helper still writes into the results
                while (!done) {
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
