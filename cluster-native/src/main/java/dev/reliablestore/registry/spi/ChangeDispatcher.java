package dev.reliablestore.registry.spi;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.RegistryPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Delivers one watch's change feed to its {@link ChangeListener} from a dedicated thread, one call
 * at a time, in the order batches were offered. For backends: offering never blocks the committing
 * thread.
 *
 * <p>The queue is bounded. When a listener falls more than {@code capacity} batches behind, the
 * queued batches are dropped and replaced by one {@link ChangeListener#onResync} call, so a slow
 * listener is told it missed batches instead of silently losing them or stalling commits. Batches
 * offered after that are delivered normally, after the resync call.
 *
 * <p>A listener that throws is logged and keeps receiving. After {@link #close()} returns no call
 * starts, and a call in progress on another thread has finished (unless {@code close} is called by
 * the listener itself, from inside a call).
 */
public final class ChangeDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeDispatcher.class);

    /** How long {@link #close()} waits for a listener call in progress before giving up on it. */
    private static final long CLOSE_WAIT_MILLIS = 10_000;

    private final ChangeListener listener;
    private final int capacity;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition idle = lock.newCondition();
    private final ArrayDeque<Object> queue = new ArrayDeque<>();
    private final Thread thread;
    private long lastOfferedSequence = Long.MIN_VALUE;
    private boolean closed;
    private boolean delivering;

    /**
     * Starts the delivery thread.
     *
     * @param name     names the thread and log lines, e.g. {@code "watch Entities/Customer"}
     * @param listener receives the calls
     * @param capacity how many undelivered batches may queue before the listener is resynchronised (1..1,000,000)
     */
    public ChangeDispatcher(String name, ChangeListener listener, int capacity) {
        this.name = Objects.requireNonNull(name, "name");
        this.listener = Objects.requireNonNull(listener, "listener");
        if (capacity < 1 || capacity > 1_000_000) {
            throw new IllegalArgumentException("dispatcher capacity must be 1..1000000, got " + capacity);
        }
        this.capacity = capacity;
        this.thread = new Thread(this::run, "registry-feed " + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Whether a watch of {@code subtree} is told of {@code change}: a change inside it, or the deletion
     * of the subtree's key or of an ancestor (the subtree is gone with it). Every backend filters with
     * this one rule, so watches behave alike on all of them.
     */
    public static boolean concerns(RegistryPath subtree, Change change) {
        return subtree.contains(change.key()) || change instanceof Change.KeyDeleted && change.key().contains(subtree);
    }

    /**
     * Queues a batch. Sequences must strictly increase from one offer to the next (a backend bug
     * otherwise, reported with {@link IllegalStateException}). Ignored after {@link #close()}.
     */
    public void offer(ChangeBatch batch) {
        Objects.requireNonNull(batch, "batch");
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (batch.sequence() <= lastOfferedSequence) {
                throw new IllegalStateException("change feed of " + name + ": sequence " + batch.sequence()
                        + " offered after " + lastOfferedSequence + "; sequences must strictly increase");
            }
            lastOfferedSequence = batch.sequence();
            if (queue.size() >= capacity) {
                queue.clear();
                queue.add(new Resync("the listener fell behind by more than " + capacity
                        + " batches; queued batches were dropped"));
            }
            queue.add(batch);
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops every queued batch and queues one {@link ChangeListener#onResync} call (the backend lost
     * track of the feed: a reconnect, an expired session). Ignored after {@link #close()}.
     */
    public void resync(String reason) {
        Objects.requireNonNull(reason, "reason");
        lock.lock();
        try {
            if (closed) {
                return;
            }
            queue.clear();
            queue.add(new Resync(reason));
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Batches and resync calls queued and not yet started. */
    public int backlog() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Stops delivery; idempotent. See the class comment for what is guaranteed on return. */
    @Override
    public void close() {
        stop();
        awaitCallEnded(closeDeadline());
    }

    /**
     * The deadline {@link #close()} waits until for a call in progress: a caller closing several dispatchers
     * {@link #stop}s them all, then waits for each until one such deadline, so that they wait together.
     */
    public static long closeDeadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
    }

    /** Stops delivery without waiting for a call in progress ({@link #awaitCallEnded}); idempotent. */
    public void stop() {
        lock.lock();
        try {
            closed = true;
            queue.clear();
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * After {@link #stop}: waits until a call in progress on the delivery thread has returned, at most
     * until {@code deadline} ({@link System#nanoTime}); returns at once on the delivery thread itself.
     */
    public void awaitCallEnded(long deadline) {
        if (Thread.currentThread() == thread) {
            return;
        }
        lock.lock();
        try {
            while (delivering) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    LOG.warn("change feed of {}: the listener did not return in time after close; not waiting longer", name);
                    break;
                }
                idle.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            Object next;
            lock.lock();
            try {
                while (!closed && queue.isEmpty()) {
                    work.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                next = queue.poll();
                delivering = true;
            } finally {
                lock.unlock();
            }
            try {
                if (next instanceof Resync r) {
                    listener.onResync(r.reason());
                } else {
                    listener.onBatch((ChangeBatch) next);
                }
            } catch (Exception | Error e) { // Exception: a listener in another JVM language may throw a checked one undeclared
                if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
                    // the JVM failed in the middle of the call (out of memory), not the listener's logic: the listener may
                    // not have taken the batch in, so it is told, instead of this thread ending and the watch going silent
                    LOG.error("change feed of {}: a call of listener {} ended with {}; it is told to resync", name, listener, e.toString());
                    lock.lock();
                    try {
                        queue.addFirst(next instanceof Resync r ? r : new Resync("the call delivering batch "
                                + ((ChangeBatch) next).sequence() + " ended with " + e.getClass().getSimpleName()
                                + " (a failure of the JVM, not of the listener); that batch may not have been taken in"));
                    } finally {
                        lock.unlock();
                    }
                } else {
                    LOG.warn("change feed of {}: listener {} threw; it keeps its watch", name, listener, e);
                }
            } finally {
                lock.lock();
                try {
                    delivering = false;
                    idle.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private record Resync(String reason) {
    }
}
