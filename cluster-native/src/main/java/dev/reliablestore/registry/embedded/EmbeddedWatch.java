package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.spi.ChangeDispatcher;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A watch on a subtree of an embedded registry: the published batches, cut to the subtree,
 * delivered in order.
 *
 * <h2>Replaying</h2>
 * A watch from a checkpoint is registered, under the registry's {@code applyLock}, at the
 * published sequence P with {@code readTo} = P: every batch up to P is in the log, every later one
 * comes to {@link #deliver}. While the history is read (by its own thread, from the log), those
 * live batches are held back here; when more than {@link #HELD_BACK_LIMIT} pile up they are
 * dropped and {@code readTo} moves to the newest of them, so the reader reads them from the log
 * too. At the end of the history the reader takes the {@code applyLock}: if {@code readTo} did not
 * move, it hands the held-back batches to the dispatcher and the watch is live from then on (no
 * batch can be published meanwhile: publication holds that lock); else it reads on. So each
 * sequence reaches the dispatcher exactly once and in order: those up to {@code readTo} from the
 * log, the later ones held back or live.
 *
 * <p>The reader waits for the listener: it offers at most {@link #HISTORY_WINDOW} batches beyond
 * what the listener has taken, so a long history is neither held in memory nor turned into a
 * resync.
 */
final class EmbeddedWatch implements Watch {

    /** History batches offered to the dispatcher and not yet taken by the listener. */
    static final int HISTORY_WINDOW = 256;
    /** Live batches held back while the history is read (well below the dispatcher's capacity, with the window). */
    static final int HELD_BACK_LIMIT = EmbeddedRegistry.WATCH_QUEUE_CAPACITY / 2;

    private final RegistryPath subtree;
    private final long startSequence;
    private final ChangeDispatcher dispatcher;
    private final Consumer<EmbeddedWatch> unregister;
    private final Semaphore window;
    /** While the history is read: each listener call gives back a place in the window. */
    private volatile boolean replaying;
    private volatile boolean closed;
    // ---- guarded by the registry's applyLock
    /** Live batches held back while the history is read; null once live. */
    private ArrayDeque<ChangeBatch> heldBack;
    /** The history must be read up to here. */
    private long readTo;

    /** {@code unregister} removes the watch from its registry's list when the watch is closed. */
    EmbeddedWatch(RegistryPath subtree, ChangeListener listener, long startSequence, int queueCapacity,
                  Consumer<EmbeddedWatch> unregister) {
        this(subtree, listener, startSequence, queueCapacity, unregister, -1);
    }

    /**
     * A watch that first replays the history after {@code startSequence} up to {@code published},
     * when {@code published} is greater ({@link #replayHistory} reads it); else a live one.
     */
    EmbeddedWatch(RegistryPath subtree, ChangeListener listener, long startSequence, int queueCapacity,
                  Consumer<EmbeddedWatch> unregister, long published) {
        this.subtree = subtree;
        this.startSequence = startSequence;
        this.unregister = unregister;
        String name = "embedded " + (subtree.isRoot() ? "/" : subtree.toString());
        if (published > startSequence) {
            this.window = new Semaphore(HISTORY_WINDOW);
            this.heldBack = new ArrayDeque<>();
            this.readTo = published;
            this.replaying = true;
            this.dispatcher = new ChangeDispatcher(name, new Windowed(listener), queueCapacity);
        } else {
            this.window = null;
            this.dispatcher = new ChangeDispatcher(name, listener, queueCapacity);
        }
    }

    /** Gives back a place in the history window after each call, so the reader offers more. */
    private final class Windowed implements ChangeListener {
        private final ChangeListener listener;

        Windowed(ChangeListener listener) {
            this.listener = listener;
        }

        @Override
        public void onBatch(ChangeBatch batch) {
            try {
                listener.onBatch(batch);
            } finally {
                if (replaying) {
                    window.release();
                }
            }
        }

        @Override
        public void onResync(String reason) {
            try {
                listener.onResync(reason);
            } finally {
                if (replaying) {
                    window.release();
                }
            }
        }

        @Override
        public String toString() {
            return listener.toString();
        }
    }

    /** The part of the batch inside the subtree (an ancestor's deletion as is), or null. */
    private ChangeBatch cut(ChangeBatch batch) {
        if (subtree.isRoot()) {
            return batch;
        }
        List<Change> inside = null;
        List<Change> changes = batch.changes();
        for (int i = 0, n = changes.size(); i < n; i++) {
            Change c = changes.get(i);
            if (ChangeDispatcher.concerns(subtree, c)) {
                if (inside == null) {
                    inside = new ArrayList<>();
                }
                inside.add(c);
            }
        }
        if (inside == null) {
            return null;
        }
        return inside.size() == changes.size() ? batch : new ChangeBatch(batch.sequence(), inside);
    }

    /** Offers the part of the batch inside the subtree. Caller holds the registry's applyLock. */
    void deliver(ChangeBatch batch) {
        ChangeBatch mine = cut(batch);
        if (mine == null) {
            return;
        }
        if (heldBack != null) {
            if (heldBack.size() >= HELD_BACK_LIMIT) {
                heldBack.clear(); // read from the log instead: durable by the time the reader gets there
                readTo = batch.sequence();
            } else {
                heldBack.addLast(mine);
            }
            return;
        }
        dispatcher.offer(mine);
    }

    /** The sequence the history must be read up to now. Caller holds the registry's applyLock. */
    long readToLocked() {
        return readTo;
    }

    /**
     * Ends the replay once the history was read up to {@code readUpTo}: hands on the held-back
     * batches and goes live, or returns false when more must be read first ({@link #readToLocked}).
     * Caller holds the registry's applyLock.
     */
    boolean goLiveLocked(long readUpTo) {
        if (readTo > readUpTo) {
            return false;
        }
        replaying = false;
        for (ChangeBatch b : heldBack) {
            dispatcher.offer(b);
        }
        heldBack = null;
        return true;
    }

    /**
     * The history could not be read up to {@code readTo}: the listener is told it missed batches,
     * then receives the held-back ones and the live feed. Caller holds the registry's applyLock.
     */
    void goLiveAfterResyncLocked(String reason) {
        replaying = false;
        dispatcher.resync(reason);
        for (ChangeBatch b : heldBack) {
            dispatcher.offer(b);
        }
        heldBack = null;
    }

    /** The history reader: offers one batch of the history, waiting for room in the window; false once closed. */
    boolean offerHistory(ChangeBatch batch) throws InterruptedException {
        ChangeBatch mine = cut(batch);
        if (mine == null) {
            return !closed;
        }
        while (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            if (closed) {
                return false;
            }
        }
        if (closed) {
            return false;
        }
        dispatcher.offer(mine);
        return true;
    }

    /** The history reader: a part of the history could not be read, the listener is told so. */
    void resync(String reason) {
        dispatcher.resync(reason);
        // the batches it dropped never give their places back; a call in progress and the resync
        // call may give back one each more than taken, which only widens the window by that
        window.drainPermits();
        window.release(HISTORY_WINDOW);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public RegistryPath subtree() {
        return subtree;
    }

    @Override
    public long startSequence() {
        return startSequence;
    }

    @Override
    public void close() {
        closed = true;
        unregister.accept(this);
        dispatcher.close();
    }

    /** The registry closed: delivers nothing more. */
    /** Stops delivery without waiting for a listener call in progress ({@link #awaitDeliveryStopped}). */
    void stopDelivering() {
        closed = true;
        dispatcher.stop();
    }

    /** After {@link #stopDelivering}: waits for a listener call in progress, at most until {@code deadline} ({@link System#nanoTime}). */
    void awaitDeliveryStopped(long deadline) {
        dispatcher.awaitCallEnded(deadline);
    }
}
