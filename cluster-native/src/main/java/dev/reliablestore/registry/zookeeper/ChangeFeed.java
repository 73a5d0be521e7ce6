package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.spi.ChangeDispatcher;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CreateRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The change feed, read from the change log with one persistent recursive watch on {@code {chroot}/log}.
 *
 * <p>Every batch that changes something creates one log entry in its multi, so the entry's
 * creation zxid is the batch's sequence and its content says exactly what the batch did. ZooKeeper
 * sends the NodeCreated events in zxid order; each entry is then read with an asynchronous
 * getData, whose answers come back in the order asked (one session is FIFO), so batches reach the
 * listeners in commit order with their exact values — also when later batches have already
 * overwritten them.
 *
 * <p>ZooKeeper does not replay events missed while disconnected. After any disconnect (and after a
 * session expiry, when the watch is registered again on the new session) every watch is told to
 * resynchronise, once the watch is in place again; an entry removed by the log's garbage collection
 * before it was read also causes a resync.
 *
 * <p>The watch is registered when the first listener or capture needs it, not when the registry
 * opens: with it, the server sends an event for every batch committed by anyone, and a client
 * with nobody listening (the provider with its cache off, a CLI) only spends both sides' CPU
 * dropping them. Once registered it stays for the registry's life (and is registered again on
 * every reconnect).
 */
final class ChangeFeed implements Watcher {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeFeed.class);

    private final ZnodeLayout layout;
    private final Supplier<ZooKeeper> handle;
    private final int capacity;
    private final List<FeedWatch> watches = new CopyOnWriteArrayList<>();
    private final List<Capture> captures = new CopyOnWriteArrayList<>();
    private final int entryDepth;
    /** Touched only on the ZooKeeper event thread. */
    private long lastSequence;
    /** Events may have been missed since the last registration that resynchronised everyone. Written under this. */
    private volatile boolean broken;
    /** How many times the feed broke; a registration clears {@link #broken} only if none came after it was sent. Under this. */
    private long breaks;
    /**
     * Set, under this, once the watch's registration has been handed to a session; set once. A reader that sees it
     * reads {@code seq} after that registration on the session's ordered queue.
     */
    private volatile boolean wanted;
    private volatile String brokenReason = "";
    /**
     * Odd while the feed holds back what it reads: set on the event thread when the connection drops,
     * in order with the entries' events (an entry created while disconnected raised none), so nothing
     * read after that point is delivered until the registration after the reconnect resynchronises the
     * listeners (they then read again from their checkpoint, which covers what was held back). Each
     * hold has its own odd value, so that a release queued for one ({@link #releaseHold}) never ends a
     * later one. Set under this; ended with {@link #broken}, or by such a release.
     */
    private final java.util.concurrent.atomic.AtomicLong hold = new java.util.concurrent.atomic.AtomicLong();
    /** Told of every batch read from the log (entry path, changes), on the event thread. */
    private volatile java.util.function.BiConsumer<String, List<Change>> observer = (entry, changes) -> { };
    /** Entries whose creation events arrived and that are not handled yet, in that order (see {@link #drain}). */
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    /** Path → bytes of the entries of this registry's multis in flight (see {@link #ownEntrySent}). */
    private final java.util.concurrent.ConcurrentHashMap<String, byte[]> ownEntries = new java.util.concurrent.ConcurrentHashMap<>();
    static final int MAX_OWN_ENTRIES = 10_000;
    /** Entries read from the log (for tests: its own batches' entries a registry does not read). */
    final java.util.concurrent.atomic.AtomicLong entriesRead = new java.util.concurrent.atomic.AtomicLong();
    /** Events the watch received (for tests: none before anyone wants the watch). */
    final java.util.concurrent.atomic.AtomicLong eventsReceived = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Runs a registration again later (the registry's maintenance thread); none by default. After a
     * session expiry the new session has no watch until a registration succeeds, so one refused other
     * than by a lost connection (no reconnect will come to try again) is retried, waiting longer each time.
     */
    private volatile java.util.function.BiConsumer<Runnable, Long> later = (task, delayMillis) -> { };
    /** Registrations refused in a row (other than by a lost connection); under this. */
    private int refusals;
    static final long FIRST_RETRY_MILLIS = 100;
    static final long MAX_RETRY_MILLIS = 30_000;

    ChangeFeed(ZnodeLayout layout, Supplier<ZooKeeper> handle, int capacity) {
        this.layout = layout;
        this.handle = handle;
        this.capacity = capacity;
        this.entryDepth = depth(layout.log) + 2;
    }

    /**
     * Registers the watch again on the current session once it is wanted; resynchronises every listener once it is in
     * place if the feed broke.
     */
    void install() {
        RuntimeException failed = null;
        long held = 0;
        synchronized (this) {
            if (!wanted) {
                return;
            }
            try {
                register();
            } catch (RuntimeException e) {
                notRegistered(e);
                failed = e;
                held = hold.get(); // the hold this failure leaves: not one a later disconnect starts
            }
        }
        if (failed != null) {
            Throwable root = failed;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (ZkCalls.isConnectionProblem(root)) {
                throw failed; // the reconnect that follows registers again
            }
            // outside this lock: the release drains the entries, under their own lock
            releaseHold("the change-log watch on " + layout.log + " could not be registered again after a disconnect (" + failed
                    + "); batches after the disconnect were not delivered", held);
            retryLater();
            throw failed;
        }
    }

    /**
     * Registers the watch the first time a listener or a capture needs it. Called before their first read of
     * {@code seq}: a session's requests are served in order, so every entry created after that read raises an event.
     * The registration is queued before {@link #wanted} is set, under the lock, so no caller can read {@code seq}
     * ahead of it. Throws what getting the handle threw (closing, not connected): nothing was registered, and the
     * caller takes its listener or capture back and fails.
     */
    private void want() {
        if (wanted) {
            return;
        }
        synchronized (this) {
            if (wanted) {
                return;
            }
            // nobody listened before: a disconnect until now made nobody miss anything
            broken = false;
            endHold();
            register();
            wanted = true;
        }
    }

    /** Until the watch is registered again, events may be missed: the next registration resynchronises every listener. */
    private synchronized void notRegistered(Object why) {
        if (!broken) {
            brokenReason = "the change-log watch on " + layout.log + " could not be registered: " + why;
        }
        broken = true;
        breaks++;
    }

    /** Under this (from {@link #want} or {@link #install}). */
    private void register() {
        ZooKeeper zk = handle.get();
        long breaksWhenSent = breaks;
        long heldWhenSent = hold.get();
        zk.addWatch(layout.log, this, AddWatchMode.PERSISTENT_RECURSIVE, (rc, path, ctx) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code != KeeperException.Code.OK) {
                boolean reconnects = ZkCalls.isConnectionProblem(KeeperException.create(code));
                LOG.warn("could not register the change-log watch on {}: {}; listeners will be resynchronised {}", layout.log, code,
                        reconnects ? "at the next reconnect" : "at once (if the feed held back batches after a disconnect) and at the next reconnect");
                notRegistered(code);
                if (!reconnects) {
                    // no reconnect will come to register again
                    releaseHold("the change-log watch on " + layout.log + " could not be registered again after a disconnect ("
                            + code + "); batches after the disconnect were not delivered", heldWhenSent);
                    retryLater();
                }
                return;
            }
            String reason;
            synchronized (this) {
                refusals = 0;
                // a break after this registration was sent may have lost events it cannot cover: the
                // registration that follows that break (at the reconnect) resynchronises instead
                if (!broken || breaks != breaksWhenSent) {
                    return;
                }
                broken = false;
                endHold();
                reason = brokenReason;
            }
            resyncAll(reason);
        }, null);
    }

    /** Who runs a refused registration again after a delay in milliseconds (see {@link #later}). */
    void retryRegistrationWith(java.util.function.BiConsumer<Runnable, Long> scheduler) {
        this.later = scheduler;
    }

    /** Schedules the next attempt after a registration refused other than by a lost connection. */
    private void retryLater() {
        long delay;
        synchronized (this) {
            refusals++;
            delay = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(refusals - 1, 20));
        }
        later.accept(() -> {
            try {
                install();
            } catch (RuntimeException e) {
                // a refusal schedules the next attempt itself; a lost connection leaves it to the reconnect
                LOG.debug("registering the change-log watch on {} again failed", layout.log, e);
            }
        }, delay);
    }

    /** Sets who is told of the batches read from the log (only while some watch makes the feed read them). */
    void observe(java.util.function.BiConsumer<String, List<Change>> observer) {
        this.observer = observer;
    }

    /** The connection was lost: events may be missed from now on. */
    synchronized void disconnected(String reason, boolean sessionLost) {
        if (!broken || sessionLost) {
            brokenReason = reason;
        }
        broken = true;
        breaks++;
    }

    @Override
    public void process(WatchedEvent event) {
        eventsReceived.incrementAndGet();
        if (event.getType() == Event.EventType.None) {
            gapAt(event.getState());
            return;
        }
        if (event.getType() != Event.EventType.NodeCreated || event.getPath() == null || depth(event.getPath()) != entryDepth) {
            return;
        }
        String path = event.getPath();
        byte[] own = ownEntries.isEmpty() ? null : ownEntries.remove(path);
        if (!reading()) {
            return; // nobody listens: a watch registered later starts after this entry anyway
        }
        Slot slot = new Slot(path);
        synchronized (slots) {
            slots.add(slot);
        }
        if (own != null && event.getZxid() > 0) {
            // our own batch's entry: its bytes are the ones we sent and the event carries its creation
            // zxid, so it is not read back (a request carrying the batch's values again); it still waits
            // its turn behind the entries read before it
            Stat stat = new Stat();
            stat.setCzxid(event.getZxid());
            slot.answer(new ZkCalls.NodeData(own, stat), null);
            drain();
            return;
        }
        ZooKeeper zk;
        try {
            zk = handle.get();
        } catch (RuntimeException e) {
            synchronized (slots) {
                slots.remove(slot);
            }
            return; // closing
        }
        entriesRead.incrementAndGet();
        slot.readOn = zk;
        ZkCalls.getData(zk, path).whenComplete((node, failure) -> {
            slot.answer(node, failure);
            drain();
        });
    }

    /**
     * A connection state event, which ZooKeeper gives a persistent watch on its event thread in order
     * with the entries' events. The registry's own connection listener runs on Curator's thread, so
     * after a short disconnect (the session kept, the watch re-armed by the client) entries created
     * after the reconnect could be delivered before it had marked the feed broken: listeners saw a
     * gap without a resync before it, and a shipper moved its checkpoint past the batch it missed.
     */
    private void gapAt(Event.KeeperState state) {
        // Disconnected only: an expiry follows a disconnect (or Curator's SUSPENDED, when it injects one), and a new
        // session's handle has no watch until its registration, whose answer comes before any event it carries; an
        // Expired handled on the old handle's thread after that registration would hold for ever
        if (state != Event.KeeperState.Disconnected) {
            return;
        }
        startHold("the connection to ZooKeeper was interrupted; changes made meanwhile were not delivered");
    }

    /**
     * Marks a gap that the next registration (at the reconnect) ends with a resync, holding back
     * every entry handled until then. A new hold each time: a release marker queued for an earlier
     * one must not end it.
     */
    private void startHold(String reason) {
        synchronized (this) {
            if (!wanted) {
                return; // nobody listens: a registration to come starts after whatever is missed
            }
            disconnected(reason, false);
            hold.updateAndGet(h -> h % 2 == 0 ? h + 1 : h + 2);
        }
        captures.forEach(Capture::incomplete);
    }

    /**
     * Ends a hold that no registration will end (it failed other than by a lost connection, so no
     * reconnect comes): the session kept its watch, re-armed by the client, so what follows arrives
     * in order; the listeners are resynchronised at this point of the stream, after the entries
     * already held back and before any later one.
     */
    private void releaseHold(String reason, long held) {
        if (held % 2 == 0) {
            return;
        }
        Slot marker = Slot.release(reason, held);
        synchronized (slots) {
            slots.add(marker);
        }
        drain();
    }

    /** Ends the current hold, if any (under this). */
    private void endHold() {
        hold.updateAndGet(h -> h % 2 == 1 ? h + 1 : h);
    }

    /**
     * The create op of a change-log entry this registry is sending in a multi: its bytes are kept so that its creation
     * event needs no read. Only while someone reads the feed; a multi that fails takes them back
     * ({@link #ownEntryNotCreated}), and the map is bounded (an entry dropped from it is read).
     */
    void ownEntrySent(Op entry) {
        if (!reading()) {
            return;
        }
        if (ownEntries.size() >= MAX_OWN_ENTRIES) {
            ownEntries.clear();
        }
        ownEntries.put(entry.getPath(), ((CreateRequest) entry.toRequestRecord()).getData());
    }

    /** Whether some watch or capture reads the log, so that entries are read (or taken from memory). */
    private boolean reading() {
        return !watches.isEmpty() || !captures.isEmpty();
    }

    void ownEntryNotCreated(String path) {
        ownEntries.remove(path);
    }

    /**
     * Handles the entries in the order their creation events arrived: one answered waits for all
     * before it. On the event thread — the lock only matters after a session expiry, when the old
     * handle's event thread still answers its last reads (with a failure) beside the new one's.
     */
    private void drain() {
        synchronized (slots) {
            while (!slots.isEmpty() && slots.peekFirst().answered) {
                Slot s = slots.pollFirst();
                if (s.releaseReason != null) {
                    // only the hold it was queued for: a later disconnect's is ended by its own registration
                    if (hold.compareAndSet(s.releasedHold, s.releasedHold + 1)) {
                        resyncAll(s.releaseReason);
                    }
                    continue;
                }
                handle(s.path, s.readOn, s.node, s.failure);
            }
        }
    }

    private static final class Slot {
        final String path;
        /** The handle the entry was read on; null for our own entries (not read). */
        ZooKeeper readOn;
        boolean answered;
        ZkCalls.NodeData node;
        Throwable failure;

        /** For a release marker ({@link #releaseHold}): why, and the hold it ends; else null and 0. */
        final String releaseReason;
        final long releasedHold;

        Slot(String path) {
            this(path, null, 0);
        }

        private Slot(String path, String releaseReason, long releasedHold) {
            this.path = path;
            this.releaseReason = releaseReason;
            this.releasedHold = releasedHold;
        }

        /** A marker that ends hold {@code held} where the stream reaches it: answered at once. */
        static Slot release(String reason, long held) {
            Slot s = new Slot(null, reason, held);
            s.answered = true;
            return s;
        }

        void answer(ZkCalls.NodeData node, Throwable failure) {
            this.node = node;
            this.failure = failure;
            this.answered = true;
        }
    }

    private void handle(String path, ZooKeeper readOn, ZkCalls.NodeData node, Throwable failure) {
        if (failure != null || node == null) {
            captures.forEach(Capture::incomplete);
        }
        if (failure != null) {
            Throwable cause = ZkCalls.unwrap(failure);
            if (reconnectFollows(cause)) {
                // The entries after this one may already be answered (our own are, at once) and are handled
                // next, while ZooKeeper fails a lost connection's reads before it queues the Disconnected
                // event that starts the hold: delivered now, one of them would follow a gap with no resync
                // before it, and a shipper would move its checkpoint past the batch this entry holds. So
                // the hold starts here, and the reconnect's registration ends it with a resync. Only on the
                // handle in use: a failure the expired session's event thread answers late comes after the
                // new session's registration, and a hold then would have nothing to end it.
                if (readOn != null && readOn == currentHandle()) {
                    startHold("change-log entry " + path + " could not be read: " + cause
                            + "; changes from there on were not delivered");
                }
                return;
            }
            LOG.warn("could not read change-log entry {}; resynchronising listeners", path, failure);
            resyncAll("change-log entry " + path + " could not be read: " + cause);
            return;
        }
        if (node == null) {
            resyncAll("change-log entry " + path + " was garbage-collected before this client read it (the client fell behind)");
            return;
        }
        List<Change> changes;
        try {
            changes = ZnodeLayout.decodeLogEntry(path, node.data(), ZnodeLayout.logEntrySequence(node.stat(), node.data()));
        } catch (RuntimeException e) {
            captures.forEach(Capture::incomplete);
            LOG.error("undecodable change-log entry {}; resynchronising listeners", path, e);
            resyncAll("change-log entry " + path + " is corrupt: " + e.getMessage());
            return;
        }
        if (changes == null) {
            return; // a fence written while verifying an ambiguous commit: no batch
        }
        for (Capture c : captures) {
            c.add(node.stat().getCzxid(), ZnodeLayout.logEntrySequence(node.stat(), node.data()), changes);
        }
        try {
            observer.accept(path, changes);
        } catch (RuntimeException e) {
            LOG.warn("change-log observer failed on {}", path, e);
        }
        long sequence = ZnodeLayout.logEntrySequence(node.stat(), node.data());
        if (sequence <= lastSequence) {
            return;
        }
        lastSequence = sequence;
        if (hold.get() % 2 == 1) {
            return; // after a gap, before its resync: the listeners read it again from their checkpoints
        }
        try {
            deliver(sequence, changes);
        } catch (RuntimeException e) {
            // thrown inside a future's callback it would vanish; listeners must learn they missed it
            LOG.error("could not deliver change-log entry {}; resynchronising listeners", path, e);
            resyncAll("change-log entry " + path + " could not be delivered: " + e);
        }
    }

    /** A failure after which the client reconnects (same session or a new one), so the feed registers again. */
    private static boolean reconnectFollows(Throwable t) {
        return t instanceof KeeperException ke && switch (ke.code()) {
            case CONNECTIONLOSS, SESSIONEXPIRED, SESSIONMOVED -> true;
            default -> false;
        };
    }

    /** The handle in use now, or null while closing. */
    private ZooKeeper currentHandle() {
        try {
            return handle.get();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void deliver(long sequence, List<Change> changes) {
        for (FeedWatch w : watches) {
            if (sequence <= w.liveAfter) {
                continue;
            }
            List<Change> mine = new ArrayList<>();
            for (Change c : changes) {
                if (ChangeDispatcher.concerns(w.subtree, c)) {
                    mine.add(c);
                }
            }
            if (!mine.isEmpty()) {
                w.live(new ChangeBatch(sequence, mine));
            }
        }
    }

    private void resyncAll(String reason) {
        for (FeedWatch w : watches) {
            w.resync(reason);
        }
    }

    /** Adds a watch; {@code startSequence} is read by the caller after the watch is in the list. */
    FeedWatch add(RegistryPath subtree, ChangeListener listener) {
        FeedWatch w = new FeedWatch(subtree, listener, -1);
        watches.add(w);
        return w;
    }

    /**
     * Adds a watch that replays the history after {@code afterSequence} first: until
     * {@link FeedWatch#finishReplay} the live batches after its start are held back (see
     * {@link FeedWatch#live}), and the history reader offers the batches up to there.
     */
    FeedWatch addReplaying(RegistryPath subtree, long afterSequence, ChangeListener listener) {
        FeedWatch w = new FeedWatch(subtree, listener, afterSequence);
        watches.add(w);
        return w;
    }

    /**
     * Reads the current sequence for a new watch and sets its start in the answer's callback, on
     * the event thread, so no entry read after the answer is skipped and none read before is
     * delivered. With {@code catchUp} the server first catches up with the leader (a checkpoint
     * taken through another server may be ahead of what this one has applied).
     */
    CompletableFuture<Long> start(FeedWatch w, boolean catchUp) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        want();
        ZooKeeper zk = handle.get();
        if (catchUp) {
            // a session's requests are served in order: the read below waits for the sync
            zk.sync(layout.seq, (rc, path, ctx) -> { }, null);
        }
        zk.getData(layout.seq, false, (rc, path, ctx, data, stat) -> {
            KeeperException.Code code = KeeperException.Code.get(rc);
            if (code == KeeperException.Code.OK) {
                long sequence = ZnodeLayout.seqSequence(stat, data);
                w.started(sequence);
                f.complete(sequence);
            } else {
                f.completeExceptionally(KeeperException.create(code, path));
            }
        }, null);
        return f;
    }

    /**
     * Starts recording every batch read from the log from now on, whether or not a watch listens.
     * The caller closes it. Entries arrive in commit order; an entry that could not be read marks
     * the capture incomplete.
     */
    Capture capture() {
        Capture c = new Capture();
        captures.add(c);
        try {
            want();
        } catch (RuntimeException e) {
            captures.remove(c);
            throw e;
        }
        return c;
    }

    void closeAll() {
        for (FeedWatch w : watches) {
            w.close();
        }
    }

    private static int depth(String path) {
        int n = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                n++;
            }
        }
        return n;
    }

    /** The batches read from the log while it was open; see {@link #capture()}. */
    final class Capture implements AutoCloseable {
        /** sequence → changes, in commit order. */
        private final java.util.concurrent.ConcurrentSkipListMap<Long, List<Change>> batches = new java.util.concurrent.ConcurrentSkipListMap<>();
        private final java.util.concurrent.ConcurrentSkipListSet<Long> zxids = new java.util.concurrent.ConcurrentSkipListSet<>();
        private volatile boolean incomplete;

        void add(long czxid, long sequence, List<Change> changes) {
            zxids.add(czxid);
            batches.put(sequence, changes);
        }

        void incomplete() {
            incomplete = true;
        }

        /**
         * The batches with {@code from < sequence <= to}, or null when the capture cannot prove it
         * holds all of them: every changing multi bumps seq's version once and creates its log
         * entries at its own zxid, so exactly {@code multis} distinct zxids must lie in
         * {@code (fromZxid, toZxid]}.
         */
        java.util.SortedMap<Long, List<Change>> between(long from, long to, long fromZxid, long toZxid, int multis) {
            if (incomplete || zxids.subSet(fromZxid, false, toZxid, true).size() != multis) {
                return null;
            }
            return batches.subMap(from, false, to, true);
        }

        @Override
        public void close() {
            captures.remove(this);
        }
    }

    /**
     * One listener's watch. A live one gets every batch after {@link #liveAfter}. A replaying one
     * ({@code declaredStart >= 0}) also starts live at the current sequence, its <em>junction</em>,
     * but holds those batches back while the history reader offers the batches up to the junction;
     * once the history is delivered, the held batches follow and the watch is live. The live side
     * sees every batch after the junction, in order, on the event thread, and the history side reads
     * exactly the batches up to it, so nothing is missed or doubled where they meet. When more than
     * {@code holdLimit} batches are held, they are dropped and the junction moves up to the last of
     * them: the history reader reads them from the log too (they are there: they were just read by
     * the feed), so a long replay under heavy writes holds a bounded number of batches.
     */
    final class FeedWatch implements Watch {
        final RegistryPath subtree;
        final ChangeDispatcher dispatcher;
        /** The feed delivers batches after this; set on the event thread by {@link #start}. */
        volatile long liveAfter = Long.MAX_VALUE;
        /** The checkpoint of a replaying watch, or -1 for a live one. */
        private final long declaredStart;
        private final int holdLimit;
        private final int historyLimit;
        /** Signalled whenever the listener returns: the history reader waits for room in the queue. */
        private final Object room = new Object();
        // guarded by this
        private boolean replaying;
        private long junction;
        private final ArrayDeque<ChangeBatch> held = new ArrayDeque<>();
        private volatile boolean stopped;
        /** For tests: how often held batches overflowed and the junction moved up. */
        private volatile int junctionMoves;

        FeedWatch(RegistryPath subtree, ChangeListener listener, long declaredStart) {
            this.subtree = subtree;
            this.declaredStart = declaredStart;
            this.replaying = declaredStart >= 0;
            // held live batches and queued history batches together never exceed the queue's capacity
            this.holdLimit = Math.max(1, capacity / 2);
            this.historyLimit = Math.max(1, capacity - holdLimit);
            String name = "zookeeper " + (replaying ? "replaying " : "") + "watch " + (subtree.isRoot() ? "/" : subtree.toString());
            this.dispatcher = new ChangeDispatcher(name, replaying ? signalling(listener) : listener, capacity);
        }

        private ChangeListener signalling(ChangeListener listener) {
            return new ChangeListener() {
                @Override
                public void onBatch(ChangeBatch batch) {
                    try {
                        listener.onBatch(batch);
                    } finally {
                        signalRoom();
                    }
                }

                @Override
                public void onResync(String reason) {
                    try {
                        listener.onResync(reason);
                    } finally {
                        signalRoom();
                    }
                }

                @Override
                public String toString() {
                    return listener.toString();
                }
            };
        }

        private void signalRoom() {
            synchronized (room) {
                room.notifyAll();
            }
        }

        /** On the event thread: the watch starts after {@code sequence}. */
        void started(long sequence) {
            synchronized (this) {
                junction = sequence;
            }
            liveAfter = sequence;
        }

        /** A live batch after {@link #liveAfter}, on the event thread, in commit order. */
        void live(ChangeBatch batch) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                if (replaying) {
                    if (batch.sequence() <= junction) {
                        return; // the history reader delivers it
                    }
                    held.add(batch);
                    if (held.size() > holdLimit) {
                        junction = batch.sequence();
                        held.clear();
                        junctionMoves++;
                    }
                    return;
                }
            }
            dispatcher.offer(batch);
        }

        /** The feed lost track (a disconnect, an unreadable entry) or the history could not be replayed: resynchronise, continue live. */
        void resync(String reason) {
            synchronized (this) {
                if (replaying) {
                    replaying = false;
                    held.clear();
                }
                // Under the lock: once replaying is false, live() offers straight to the dispatcher, and a
                // live batch offered before this resync was queued could be delivered before it, after the
                // history batches that never came (a shipper would checkpoint past them).
                dispatcher.resync(reason);
            }
            signalRoom();
        }

        /** The sequence up to which the history reader must deliver now, or -1 once the watch is closed or resynchronised. */
        synchronized long replayTarget() {
            return stopped || !replaying ? -1 : junction;
        }

        /** Offers a batch read from the history once the queue has room; false once the watch is closed or resynchronised. */
        boolean offerHistory(ChangeBatch batch) throws InterruptedException {
            awaitRoom();
            synchronized (this) {
                if (stopped || !replaying) {
                    return false;
                }
                dispatcher.offer(batch);
                return true;
            }
        }

        /**
         * The history up to {@code target} is delivered: hands over to the live feed, unless the
         * junction moved meanwhile (false: read the history up to the new junction too).
         */
        boolean finishReplay(long target) throws InterruptedException {
            awaitRoom();
            synchronized (this) {
                if (stopped || !replaying) {
                    return true;
                }
                if (junction != target) {
                    return false;
                }
                for (ChangeBatch b : held) {
                    dispatcher.offer(b);
                }
                held.clear();
                replaying = false;
                return true;
            }
        }

        private void awaitRoom() throws InterruptedException {
            synchronized (room) {
                while (!stopped && dispatcher.backlog() >= historyLimit) {
                    room.wait(100); // also bounds a missed signal (a resync cleared the queue)
                }
            }
        }

        int junctionMoves() {
            return junctionMoves;
        }

        @Override
        public RegistryPath subtree() {
            return subtree;
        }

        @Override
        public long startSequence() {
            return declaredStart >= 0 ? declaredStart : liveAfter;
        }

        @Override
        public void close() {
            watches.remove(this);
            synchronized (this) {
                stopped = true;
                held.clear();
            }
            dispatcher.close();
            signalRoom();
        }

        @Override
        public String toString() {
            return "Watch[" + subtree + " from " + startSequence() + "]";
        }
    }
}
