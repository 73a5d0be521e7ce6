package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryStoppedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The embedded registry's group-commit log: the in-memory buffer of framed records that committers
 * append to, and the hand-off that writes and forces it.
 *
 * <h2>Group commit</h2>
 * Records are appended under the registry's {@code applyLock} (microseconds, never across I/O). A
 * SYNC caller then waits in {@link #awaitDurable} until its sequence is durable: the flushing thread
 * (the dedicated writer by default; with {@code groupCommit=leader} the first waiter to find no
 * flush running) swaps the buffer, writes and forces it, has the registry publish it, and only then
 * advances {@code durableSequence}; the others are covered by that force or by the next one. ASYNC
 * batches are published by the registry at once; the background flusher makes them durable every
 * {@code asyncFlushInterval} and their futures complete on a thread of their own. The writer may
 * write them sooner, unasked, when it finds them appended as it finishes a flush: whether an ASYNC
 * batch is written alone or with the next SYNC batch depends on scheduling.
 *
 * <h2>Failure</h2>
 * A failed log write or fsync stops the log (fail-stop): after a failed fsync the kernel may have
 * dropped the dirty pages and cleared the error, so a retry could "succeed" without the data being
 * on disk. Only reopening, which replays what really is on disk, is safe; the segment is cut back to
 * the forced records first ({@link WriteAheadLog#cutUnforced}), so that a reopen in the same boot
 * does not read the failed flush back from the page cache. The batches waiting for
 * durability when it fails (those in the failed write, and those appended while it ran) fail with
 * {@code outcomeUnknown} true; a write after it is refused before it is appended, with false.
 *
 * <h2>Snapshots</h2>
 * After a flush leaves the segment past {@code snapshotThreshold}, the flushing thread
 * continues in a new segment and hands the durable state to a background snapshot writer.
 */
final class GroupCommitLog {

    // the backend's one logger, as before this class was split out of the registry
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    /**
     * Log bytes waiting to be written beyond which an ASYNC commit waits for a flush: back-pressure so
     * that writers faster than the disk cannot grow memory without bound.
     */
    static final int ASYNC_BACKLOG_BYTES = 32 * 1024 * 1024;

    /** Makes a state whose records are durable visible to readers and watches. */
    interface Publisher {
        /** Called with the registry's {@code applyLock} held. */
        void publishLocked(TreeState durable);
    }

    /** A future completed when its batch is durable; {@code sync} when it stands for a SYNC commit (answered by a future). */
    private record PendingAsync(long sequence, CompletableFuture<CommitResult> future, boolean sync) {
    }

    private final Path dir;
    private final EmbeddedOptions options;
    private final ChannelFactory channels;
    private final WriteAheadLog wal;
    private final ReentrantLock applyLock;
    private final Publisher publisher;
    private final FeedHistory history;

    // ---- guarded by applyLock
    private TreeState latest;
    private LogCodec.RecordBuffer pending = new LogCodec.RecordBuffer();
    private final ArrayDeque<PendingAsync> asyncWaiting = new ArrayDeque<>();
    // ---- read without the lock
    private volatile long durableSequence;
    private volatile long lastSequence;
    private volatile int backlogBytes;
    /** Why writing the log failed; once set, the log refuses every write until the registry is reopened (fail-stop). */
    private volatile Throwable failure;
    /** Set once {@link #stopWriting} is done: a late background flush does nothing. */
    private volatile boolean stopped;
    // ---- owned by the thread that holds `flushing`
    private LogCodec.RecordBuffer spare = new LogCodec.RecordBuffer();
    private final AtomicBoolean flushing = new AtomicBoolean();
    /** Set by {@link #stopWriting} once it took {@code flushing} for good: no flush runs or starts. */
    private volatile boolean closeHoldsFlushing;
    /**
     * Threads waiting for a flush to end, woken one by one without a lock: with a Condition every
     * woken waiter re-acquired one lock in turn, a convoy in which 16 writers spent about a tenth of
     * their CPU (async-profiler, EmbeddedWriteBench.syncThroughput16).
     */
    private final ConcurrentLinkedQueue<Waiter> flushWaiters = new ConcurrentLinkedQueue<>();
    /** The dedicated log writer in {@code groupCommit=writer} mode, else null. */
    private final Thread writer;
    private volatile boolean stopWriter;

    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    private final ScheduledExecutorService flushTimer;
    private final ExecutorService snapshotter;
    private final ExecutorService completions;
    /** The thread of {@code completions}, once started: a callback on it may close the registry. */
    private volatile Thread completionThread;

    /**
     * Continues {@code wal} after {@code recovered} and starts the background flusher (and the writer
     * in {@code groupCommit=writer} mode). {@code applyLock} is the registry's: appends and
     * publication are ordered under it.
     */
    GroupCommitLog(Path dir, String name, EmbeddedOptions options, ChannelFactory channels, WriteAheadLog wal,
                   TreeState recovered, ReentrantLock applyLock, Publisher publisher, FeedHistory history) {
        this.dir = dir;
        this.options = options;
        this.channels = channels;
        this.wal = wal;
        this.applyLock = applyLock;
        this.publisher = publisher;
        this.history = history;
        this.latest = recovered;
        this.durableSequence = recovered.sequence();
        this.lastSequence = recovered.sequence();
        this.flushTimer = Executors.newSingleThreadScheduledExecutor(daemon("registry-flusher " + name));
        this.snapshotter = Executors.newSingleThreadExecutor(daemon("registry-snapshot " + name));
        java.util.concurrent.ThreadFactory completionThreads = daemon("registry-async-completion " + name);
        this.completions = Executors.newSingleThreadExecutor(r -> completionThread = completionThreads.newThread(r));
        wal.prepareSparesOn(snapshotter);
        flushTimer.scheduleWithFixedDelay(this::flushAsyncBatches, options.asyncFlushInterval().toNanos(),
                options.asyncFlushInterval().toNanos(), TimeUnit.NANOSECONDS);
        if (options.groupCommit() == EmbeddedOptions.GroupCommit.WRITER) {
            writer = new Thread(this::writerLoop, "registry-log-writer " + name);
            writer.setDaemon(true);
            writer.start();
        } else {
            writer = null;
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    // =========================================================================================
    // appending (caller holds applyLock)
    // =========================================================================================

    /** The newest appended state: what the next batch is evaluated against. */
    TreeState latestLocked() {
        return latest;
    }

    /** Refuses a write once the log has failed. */
    void requireWritableLocked() {
        Throwable f = failure;
        if (f != null) {
            throw new RegistryStoppedException(stoppedBecause(f), f, false);
        }
    }

    /**
     * Appends the record that {@code encode} writes, which takes the tree to {@code next} (sequence
     * one past the latest). A failing encoder leaves nothing in the buffer.
     */
    void appendLocked(TreeState next, Consumer<LogCodec.RecordBuffer> encode) {
        int mark = pending.size();
        try {
            encode.accept(pending);
        } catch (RuntimeException | Error e) {
            pending.truncate(mark); // never leave half a record in the buffer
            throw e;
        }
        latest = next;
        lastSequence = next.sequence();
        backlogBytes = pending.size();
    }

    /** Completes {@code future} once {@code sequence} is durable: now, or after the flush that covers it. */
    void completeWhenDurableLocked(long sequence, CompletableFuture<CommitResult> future) {
        if (durableSequence >= sequence) {
            future.complete(new CommitResult(sequence));
        } else {
            asyncWaiting.addLast(new PendingAsync(sequence, future, false));
        }
    }

    /**
     * A SYNC commit answered by a future: completes {@code future} once {@code sequence} is durable
     * and published, and has it written now rather than at the flush interval, by the writer or
     * (groupCommit=leader) the flusher, so that the caller's thread neither waits nor forces.
     */
    void flushAndCompleteLocked(long sequence, CompletableFuture<CommitResult> future) {
        if (durableSequence >= sequence) {
            future.complete(new CommitResult(sequence));
            return;
        }
        asyncWaiting.addLast(new PendingAsync(sequence, future, true));
        if (writer != null) {
            LockSupport.unpark(writer); // it flushes while lastSequence is ahead of durableSequence
            return;
        }
        try {
            flushTimer.execute(() -> flushUpTo(sequence));
        } catch (RejectedExecutionException closing) {
            // stopWriting shut the flusher down and makes everything appended durable itself
        }
    }

    private void flushUpTo(long sequence) {
        try {
            if (sequence > durableSequence && failure == null && !stopped) {
                awaitDurable(sequence);
            }
        } catch (RegistryException e) {
            // the failure is logged once by fail(), which failed the waiting futures; writes are refused from now on
        } catch (RuntimeException | Error e) {
            // an Error too: thrown out of a periodic task it would cancel it, and ASYNC batches would wait
            // for a SYNC commit to make them durable
            LOG.error("embedded registry {}: background flush failed", dir, e);
        }
    }

    /** Whether more log bytes wait to be written than an ASYNC commit may leave behind. */
    boolean backlogExceeded() {
        return backlogBytes > ASYNC_BACKLOG_BYTES;
    }

    // =========================================================================================
    // making it durable
    // =========================================================================================

    /** Returns once every record up to {@code sequence} is forced to disk and published. */
    void awaitDurable(long sequence) {
        // a lone committer (no flush running, nobody waiting) writes and forces on its own thread: no
        // hand-off, no wake-ups; the log's I/O survives an interrupt (WriteAheadLog). A committer that
        // finds a flush running or others waiting hands its batch to the writer, which writes the group
        // that formed meanwhile and starts the next force as soon as one ends: committers leading in
        // turn left the disk idle while the next leader woke up
        if (writer != null && !stopWriter && Thread.currentThread() != writer && (flushing.get() || !flushWaiters.isEmpty())) {
            LockSupport.unpark(writer);
            awaitFlush(() -> durableSequence < sequence && failure == null && !stopWriter, sequence);
        }
        leadOrFollow(sequence);
    }

    /**
     * Parks until {@code waiting} is false; every change of what it reads is followed by
     * {@link #flushEnded}. Registered before the first check, so a wake-up between the check and the
     * park leaves a permit and is not lost. Uninterruptible like the flush it waits for; an
     * interrupt is kept for the caller.
     */
    private void awaitFlush(BooleanSupplier waiting) {
        awaitFlush(waiting, 0);
    }

    /**
     * As {@link #awaitFlush(BooleanSupplier)}, for a wait that only a flush making {@code durableAt}
     * durable (or the log failing or stopping) can end: other flushes leave the thread parked.
     */
    private void awaitFlush(BooleanSupplier waiting, long durableAt) {
        if (!waiting.getAsBoolean()) {
            return;
        }
        Waiter me = new Waiter(Thread.currentThread(), durableAt);
        flushWaiters.add(me);
        boolean interrupted = false;
        try {
            while (waiting.getAsBoolean()) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
        } finally {
            flushWaiters.remove(me);
            if (durableAt != 0) {
                wakeCovered(durableSequence, 2);
            }
            if (interrupted) {
                me.thread().interrupt();
            }
        }
    }

    /** Whether {@code t} is parked in {@link #awaitFlush} (tests). */
    boolean waitsForFlush(Thread t) {
        for (Waiter w : flushWaiters) {
            if (w.thread() == t) {
                return true;
            }
        }
        return false;
    }

    /**
     * A thread in {@link #awaitFlush}; {@code durableAt} 0 when every flush's end must wake it. The
     * boolean it extends is set by the one thread that wakes it for a durable sequence ({@link #claim}).
     */
    private static final class Waiter extends AtomicBoolean {
        private final Thread thread;
        private final long durableAt;

        Waiter(Thread thread, long durableAt) {
            this.thread = thread;
            this.durableAt = durableAt;
        }

        Thread thread() {
            return thread;
        }

        long durableAt() {
            return durableAt;
        }

        /** Whether the caller is the one to wake this waiter. */
        boolean claim() {
            return !get() && compareAndSet(false, true);
        }
    }

    /**
     * Wakes the threads in {@link #awaitFlush} whose wait the state change may have ended. Sixteen
     * committers woken at every flush, most of them to park again, cost more CPU than the writes on
     * a two-core machine: a committer waiting for its sequence is woken by the flush that covers it.
     * Of those, the flushing thread wakes one and each woken committer wakes the next two
     * ({@link #wakeCovered}): an unpark is a system call, and the writer that made them all in turn
     * spent a sixth of the process's CPU there while the disk waited for its next force.
     */
    private void flushEnded() {
        long durable = durableSequence;
        boolean all = failure != null || stopWriter;
        for (Waiter w : flushWaiters) {
            if (all || w.durableAt() == 0) {
                wakeUps.increment();
                LockSupport.unpark(w.thread());
            }
        }
        if (!all) {
            wakeCovered(durable, 1);
        }
    }

    /**
     * Wakes up to {@code n} waiters for a sequence that {@code durable} covers and nobody woke yet.
     * A claimed waiter's wait is over for good (durability only grows), so it leaves
     * {@link #awaitFlush} and passes the wake-up on: every covered waiter is woken exactly once.
     */
    private void wakeCovered(long durable, int n) {
        for (Waiter w : flushWaiters) {
            if (n == 0) {
                return;
            }
            if (w.durableAt() != 0 && w.durableAt() <= durable && w.claim()) {
                wakeUps.increment();
                LockSupport.unpark(w.thread());
                n--;
            }
        }
    }

    /** Threads woken by {@link #flushEnded} (tests). */
    final java.util.concurrent.atomic.LongAdder wakeUps = new java.util.concurrent.atomic.LongAdder();

    /**
     * Leader/follower group commit: the first thread to find no flush running writes and forces
     * everything appended so far; the others wait for it and, if their batch came too late for
     * that force, one of them leads the next.
     */
    private void leadOrFollow(long sequence) {
        while (durableSequence < sequence) {
            Throwable f = failure;
            if (f != null) {
                throw new RegistryStoppedException(stoppedBecause(f) + "; this batch was being written and may or may not be durable:"
                        + " read it after reopening", f, true);
            }
            if (flushing.compareAndSet(false, true)) {
                try {
                    flushOnce();
                } finally {
                    flushing.set(false);
                    flushEnded();
                }
            } else {
                awaitFlush(() -> flushing.get() && durableSequence < sequence && failure == null);
            }
        }
    }

    /** Writes and forces everything appended so far, then publishes it. Caller holds {@code flushing}. */
    private void flushOnce() {
        flushOnceReturning();
    }

    /** {@link #flushOnce}, returning the state now durable (null when the log has failed). */
    private TreeState flushOnceReturning() {
        LogCodec.RecordBuffer toWrite;
        TreeState upTo;
        long[] probe = CommitProbe.ENABLED ? new long[4] : null;
        applyLock.lock();
        try {
            if (failure != null) {
                return null;
            }
            toWrite = pending;
            pending = spare;
            upTo = latest;
            backlogBytes = 0;
        } finally {
            applyLock.unlock();
        }
        if (CommitProbe.ENABLED) {
            probe[CommitProbe.FLUSH_START] = System.nanoTime();
        }
        try {
            if (toWrite.size() > 0) {
                wal.writeAndForce(toWrite.array(), toWrite.size());
                if (CommitProbe.ENABLED) {
                    probe[CommitProbe.WRITTEN] = wal.writtenAt;
                    probe[CommitProbe.FORCED] = System.nanoTime();
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            // an Error too (the JDK's "Cannot reserve ... bytes of direct buffer memory"): the buffer is
            // dropped below, so carrying on would log later batches after a gap and call them durable
            fail(e);
            return null;
        } finally {
            toWrite.reset();
            spare = toWrite;
        }
        List<PendingAsync> done = null;
        applyLock.lock();
        try {
            // publish before announcing durability: a committer that sees durableSequence cover its
            // batch returns at once, and its next read must see the batch (read-your-writes)
            publisher.publishLocked(upTo);
            if (CommitProbe.ENABLED) {
                probe[CommitProbe.PUBLISHED] = System.nanoTime();
                CommitProbe.flushed(probe);
            }
            durableSequence = upTo.sequence();
            while (!asyncWaiting.isEmpty() && asyncWaiting.peekFirst().sequence() <= upTo.sequence()) {
                if (done == null) {
                    done = new ArrayList<>();
                }
                done.add(asyncWaiting.pollFirst());
            }
        } finally {
            applyLock.unlock();
        }
        if (done != null) {
            List<PendingAsync> completed = done;
            Runnable complete = () -> completed.forEach(p -> p.future().complete(new CommitResult(p.sequence())));
            try {
                completions.execute(complete);
            } catch (RejectedExecutionException | OutOfMemoryError e) {
                // closing, or no thread could be started for the completions: these batches are durable
                complete.run();
            }
        }
        maybeSnapshot(upTo);
        return upTo;
    }

    /** {@code groupCommit=writer}: one thread does every SYNC write and force; committers wait for it. */
    private void writerLoop() {
        while (true) {
            // committers unpark the writer after appending; lastSequence is written before that
            while (!stopWriter && lastSequence <= durableSequence) {
                LockSupport.park(this);
                Thread.interrupted(); // the writer is ours: nothing interrupts it on purpose
            }
            if (stopWriter) {
                flushEnded();
                return;
            }
            try {
                leadOrFollow(lastSequence);
            } catch (RegistryException e) {
                // failed: fail() logged it; committers see the failure and stop waiting
                idleUntilStopped();
                return;
            } catch (RuntimeException | Error e) {
                // thrown outside the log's own I/O (out of memory while publishing, say): a writer that died
                // here would leave every committer handed to it waiting for ever while health said healthy,
                // so the log fails-stop as it does for a failed write
                failOutsideAFlush(e);
                idleUntilStopped();
                return;
            }
        }
    }

    private void idleUntilStopped() {
        flushEnded();
        while (!stopWriter) {
            LockSupport.park(this);
            Thread.interrupted();
        }
    }

    /** {@link #fail} from a thread not flushing: it takes the flushing role first, which fail() needs for its cut. */
    private void failOutsideAFlush(Throwable cause) {
        while (!flushing.compareAndSet(false, true)) {
            awaitFlush(flushing::get);
        }
        try {
            fail(cause);
        } finally {
            flushing.set(false);
            flushEnded();
        }
    }

    /** The background flusher: makes ASYNC batches durable at most {@code asyncFlushInterval} after they were committed. */
    private void flushAsyncBatches() {
        flushUpTo(lastSequence);
    }

    private void fail(Throwable cause) {
        List<PendingAsync> abandoned;
        applyLock.lock();
        try {
            if (failure != null) {
                return;
            }
            failure = cause;
            abandoned = new ArrayList<>(asyncWaiting);
            asyncWaiting.clear();
        } finally {
            applyLock.unlock();
        }
        if (!abandoned.isEmpty()) {
            failAbandoned(abandoned, cause);
        }
        // committers waiting for a flush learn of the failure now, not after the cut: a truncate on a
        // failing disk can take long
        flushEnded();
        // every caller holds the flushing role, and no flush starts once failure is set: nobody else uses the segment
        boolean cut = wal.cutUnforced();
        // one line that says both, after the cut: the tool logs errors only, and an operator must know whether to drop the page cache
        LOG.error("embedded registry {}: writing the log failed; it refuses writes until it is reopened (fail-stop: after a failed "
                + "fsync the kernel may have dropped the data, so retrying could falsely succeed); {}", dir, cut
                ? "its newest segment " + wal.segment().getFileName() + " was cut back to offset " + wal.segmentBytes()
                        + ", the end of its last forced record, so a reopen continues after the last durable batch"
                : "the records of the failed flush could not be cut off its newest segment: before reopening it in this boot, restart"
                        + " the machine or drop the page cache, or they may be read back as durable", cause);
    }

    private void failAbandoned(List<PendingAsync> abandoned, Throwable cause) {
        // on the completion thread, as successes are: a caller's callback that blocks must not hold up
        // the flusher or the writer (nor keep a closed registry's directory locked)
        Runnable failAll = () -> {
            for (PendingAsync p : abandoned) {
                p.future().completeExceptionally(new RegistryStoppedException(stoppedBecause(cause) + (p.sync()
                        ? "; this batch was being written and may or may not be durable: read it after reopening"
                        : "; this ASYNC batch was not yet durable and may be lost: read it after reopening"), cause, true));
            }
        };
        try {
            completions.execute(failAll);
        } catch (RejectedExecutionException | OutOfMemoryError e) {
            failAll.run(); // closing, or no thread for the completions
        }
    }

    /** Why writing the log failed, or null while it works. */
    Throwable failure() {
        return failure;
    }

    /** What every error and health report of a stopped registry says. */
    String stoppedBecause(Throwable cause) {
        return "the embedded registry " + dir + " stopped accepting writes after writing its log failed (" + cause + "); it does"
                + " not retry (after a failed write or fsync it cannot vouch for what is on disk): fix the cause, then close and reopen it";
    }

    long durableSequence() {
        return durableSequence;
    }

    Path segment() {
        return wal.segment();
    }

    long segmentBytes() {
        return wal.segmentBytes();
    }

    boolean spareReady() {
        return wal.spareReady();
    }

    // =========================================================================================
    // snapshots
    // =========================================================================================

    /**
     * After the log passed the threshold: continue in a new segment and snapshot the durable state in
     * the background. Before it, a segment whose zeros are used up continues in the spare (no snapshot).
     */
    private void maybeSnapshot(TreeState durable) {
        if (wal.bytesSinceThresholdRotation() < options.snapshotThreshold()) {
            if (wal.shouldRotateEarly() && snapshotRunning.compareAndSet(false, true)) {
                try {
                    wal.rotateEarly(durable.sequence() + 1);
                } catch (IOException | RuntimeException | Error e) {
                    // an Error too: a rotation stopped after its rename would leave later batches in the older segment
                    fail(e);
                } finally {
                    snapshotRunning.set(false);
                }
            }
            return;
        }
        if (!snapshotRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            wal.rotate(durable.sequence() + 1);
        } catch (IOException | RuntimeException | Error e) {
            // an Error too (see above): the next segment may already exist, and batches after it must not go to this one
            snapshotRunning.set(false);
            fail(e);
            return;
        }
        try {
            snapshotter.execute(() -> {
                try {
                    writeSnapshot(durable);
                } finally {
                    snapshotRunning.set(false);
                }
            });
        } catch (RejectedExecutionException | OutOfMemoryError e) {
            // closing, or no thread for the snapshot: the log holds everything, and a later rotation tries again
            snapshotRunning.set(false);
        }
    }

    private void writeSnapshot(TreeState state) {
        try {
            Path file = SnapshotFiles.write(dir, channels, state);
            history.removeObsolete(state.sequence());
            LOG.debug("embedded registry {}: snapshot {} written; log segments older than it and than feedRetention removed", dir,
                    file.getFileName());
        } catch (IOException | RuntimeException e) {
            // nothing is lost: the previous snapshot and every log segment since are kept
            LOG.warn("embedded registry {}: writing a snapshot at sequence {} failed; the log is kept and a snapshot will be tried again",
                    dir, state.sequence(), e);
        }
    }

    /**
     * Tests: makes everything appended durable, rotates the log and writes a snapshot of it now, on
     * this thread, then removes what that snapshot and {@code feedRetention} make obsolete as if
     * the time were {@code now} (epoch milliseconds); as the threshold would, without writing that much.
     */
    void snapshotNow(long now) {
        if (stopped) {
            throw new IllegalStateException("the log of " + dir + " is closed"); // close holds `flushing` for good
        }
        while (!flushing.compareAndSet(false, true)) {
            awaitFlush(flushing::get);
        }
        try {
            while (!snapshotRunning.compareAndSet(false, true)) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a background snapshot finishing
            }
            try {
                TreeState durable = flushOnceReturning();
                if (durable == null) {
                    throw new RegistryStoppedException(stoppedBecause(failure), failure, false);
                }
                if (wal.segmentBytes() > 0) {
                    wal.rotate(durable.sequence() + 1);
                }
                SnapshotFiles.write(dir, channels, durable);
                history.removeObsolete(durable.sequence(), now);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                snapshotRunning.set(false);
            }
        } finally {
            flushing.set(false);
            flushEnded();
        }
    }

    /** Whether a snapshot is being written (tests wait for it to finish). */
    boolean snapshotInProgress() {
        return snapshotRunning.get();
    }

    // =========================================================================================
    // closing, in two steps around the registry's own
    // =========================================================================================

    /**
     * Stops the background flusher, makes everything appended durable (unless failed) and stops the
     * writer, waiting for the threads until {@code deadline} ({@link System#nanoTime}).
     */
    void stopWriting(long deadline) {
        // shutdown, not shutdownNow: the flusher may be writing the log itself (groupCommit=leader), and
        // interrupting a thread blocked in a FileChannel closes the channel and fails the registry
        flushTimer.shutdown();
        awaitTermination(flushTimer, "flusher", deadline);
        try {
            if (failure == null) {
                leadOrFollow(lastSequence);
            }
        } catch (RuntimeException e) {
            LOG.warn("embedded registry {}: the final flush on close failed", dir, e);
        }
        if (writer != null) {
            stopWriter = true;
            LockSupport.unpark(writer);
            flushEnded();
            long millis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                if (millis > 0) { // join(0) would wait for ever
                    writer.join(millis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (writer.isAlive()) {
                LOG.warn("embedded registry {}: the log writer thread did not stop in time", dir);
            }
        }
        // a committer that flushed on its own thread (groupCommit=leader, or a lone committer) may still
        // be rotating the log after its batch became durable: the segment is not ours to close until it
        // lets go, and no flush starts after this
        boolean held;
        while (!(held = flushing.compareAndSet(false, true)) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(this, 1_000_000L);
        }
        closeHoldsFlushing = held;
        stopped = true;
    }

    /**
     * After {@link #stopWriting}: waits until {@code deadline} for a snapshot being written and for
     * ASYNC completions, then closes the segment.
     */
    void close(long deadline) {
        wal.stopSpares(); // a spare being written stops at its next step rather than be awaited whole
        snapshotter.shutdown();
        awaitTermination(snapshotter, "snapshot writer", deadline);
        completions.shutdown();
        if (Thread.currentThread() != completionThread) { // a caller's callback closing the registry would wait for itself
            awaitTermination(completions, "async completion", deadline);
        }
        if (closeHoldsFlushing) {
            closeSegment();
        } // else the committer still flushing keeps the segment; awaitThreadsTouchingFiles closes it after it
    }

    private void closeSegment() {
        try {
            wal.close(failure == null);
        } catch (IOException e) {
            LOG.warn("embedded registry {}: closing the log failed", dir, e);
        }
    }

    private void awaitTermination(ExecutorService executor, String what, long deadline) {
        try {
            if (!executor.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                LOG.warn("embedded registry {}: the {} thread did not stop in time", dir, what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The threads of this log that may still read or write the directory's files after
     * {@link #close}: the flusher, the writer, the snapshot writer and a committer flushing on its
     * own thread, if they did not stop in time. (The completion thread runs callers' callbacks,
     * never file I/O.)
     */
    List<String> threadsTouchingFiles() {
        List<String> running = new ArrayList<>(3);
        if (!flushTimer.isTerminated()) {
            running.add("the background flusher");
        }
        if (writer != null && writer.isAlive()) {
            running.add("the log writer");
        }
        if (!snapshotter.isTerminated()) {
            running.add("the snapshot writer");
        }
        if (!closeHoldsFlushing) {
            running.add("a committer's flush");
        }
        return running;
    }

    /** Waits, without a time limit, until {@link #threadsTouchingFiles} is empty; closes the segment a committer kept. */
    void awaitThreadsTouchingFiles() throws InterruptedException {
        flushTimer.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        if (writer != null) {
            writer.join();
        }
        snapshotter.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        if (!closeHoldsFlushing) {
            while (!flushing.compareAndSet(false, true)) {
                LockSupport.parkNanos(this, 1_000_000L);
            }
            closeHoldsFlushing = true;
            closeSegment();
        }
    }
}
