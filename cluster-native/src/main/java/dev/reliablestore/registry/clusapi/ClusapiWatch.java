package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.spi.ReplayCheckpoints;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.spi.ChangeDispatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A change feed from a batch notification port on the base key. A reader thread blocks in
 * {@code ClusterRegGetBatchNotification}, cuts the mirrored commands into batches at each
 * {@code SET_VALUE /batch} (the journal every changing batch writes first), rebuilds each batch's
 * changes from its journal (user names) plus the data of its SET_VALUE commands (whose mapped names,
 * {@link NativeNames}, must match the journal's), and offers those inside the
 * subtree to a {@link ChangeDispatcher}. A gap in the sequences, or a failed port, becomes a resync.
 *
 * <p>A replaying watch first reads the batches after its checkpoint up to the sequence {@code S}
 * read when it started from the history ({@link FeedHistory}), then continues with the port. No gap:
 * the port is opened before {@code S} is read, so every batch after {@code S} (committed after that
 * read) reaches the port, and every batch up to {@code S} has its record in the history (written in
 * the same native batch). No duplicate: the port's batches up to {@code S} are dropped, as a live
 * watch drops those before its start. While it replays the port buffers what commits meanwhile, and
 * the replay waits for the listener rather than overflowing the dispatcher.
 */
final class ClusapiWatch implements Watch {

    private static final Logger LOG = LoggerFactory.getLogger(ClusapiWatch.class);
    private static final int DISPATCH_CAPACITY = 10_000;
    /** Batches a replay lets queue before it waits for the listener (reading history is never the reason for a resync). */
    private static final int REPLAY_BACKLOG = 64;

    private final ClusapiRegistry registry;
    private final RegistryPath subtree;
    private final ChangeDispatcher dispatcher;
    private final long startSequence;
    /** The sequence when the watch started: batches after it come from the port, those up to it from the history. */
    private final long liveFrom;
    private final Thread reader;
    private volatile BatchNotificationPort port;
    private volatile boolean closed;
    private long lastSequence;
    private Journal.Decoded pending;
    private final List<byte[]> pendingData = new ArrayList<>();
    private final List<Integer> pendingTypes = new ArrayList<>();
    private final List<String> pendingNames = new ArrayList<>();

    ClusapiWatch(ClusapiRegistry registry, RegistryPath subtree, ChangeListener listener) {
        this(registry, subtree, -1, listener);
    }

    /** A live watch ({@code afterSequence} -1) or one replaying the history after {@code afterSequence}. */
    ClusapiWatch(ClusapiRegistry registry, RegistryPath subtree, long afterSequence, ChangeListener listener) {
        this.registry = registry;
        this.subtree = subtree;
        // the port first, then the sequence: every batch after it reaches the port
        this.port = registry.openBatchPort();
        try {
            if (afterSequence < 0) {
                this.liveFrom = registry.sequenceForWatch();
                this.startSequence = liveFrom;
            } else {
                FeedHistory.State state = registry.feedStateForWatch();
                ReplayCheckpoints.requireReached(afterSequence, state.sequence(), registry.uri());
                ReplayCheckpoints.requireRetained(afterSequence, state.replayableAfter(), registry.feedBoundsText());
                this.liveFrom = state.sequence();
                this.startSequence = afterSequence;
            }
        } catch (RuntimeException e) {
            port.close();
            throw e;
        }
        this.lastSequence = liveFrom;
        this.dispatcher = new ChangeDispatcher("clusapi watch " + registry.uri() + " " + subtree, listener, DISPATCH_CAPACITY);
        this.reader = new Thread(this::run, "clusapi-watch-reader " + subtree);
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public RegistryPath subtree() {
        return subtree;
    }

    @Override
    public long startSequence() {
        return startSequence;
    }

    private void run() {
        if (startSequence < liveFrom) {
            replay();
        }
        int failures = 0;
        while (!closed) {
            try {
                List<BatchNotificationPort.Command> commands = port.next();
                failures = 0;
                consume(commands);
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                failures++;
                LOG.warn("batch notification port of {} failed; reopening it and resynchronising the watch on {}",
                        registry.uri(), subtree, e);
                // The failed call's notification is lost: the watch goes on only from a new port, with a resync.
                // Going back to the old port when opening one failed (it may work again) lost it without a resync.
                while (!closed && !reopen(failures)) {
                    failures++;
                }
                if (!closed) {
                    // only now: a listener's re-read must come after the sequence the new port goes on from,
                    // or a batch between the two would reach neither
                    dispatcher.resync("the batch notification port failed (" + e.getMessage() + "); batches may have been missed");
                }
            }
        }
    }

    /** Delivers batches (startSequence, liveFrom] from the history, one record in memory at a time. */
    private void replay() {
        try {
            for (long seq = startSequence + 1; seq <= liveFrom && !closed; seq++) {
                Optional<ChangeBatch> batch = registry.historyRecord(seq);
                if (batch.isEmpty()) {
                    long horizon = registry.feedStateForWatch().replayableAfter();
                    dispatcher.resync("the history record of batch " + seq + " is gone (" + (horizon >= seq
                            ? "dropped by the history bounds while the watch replayed it; replayable after " + horizon + " now"
                            : "missing from the cluster database") + "); batches up to " + liveFrom + " may have been missed");
                    return;
                }
                while (!closed && dispatcher.backlog() >= REPLAY_BACKLOG) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
                List<Change> changes = new ArrayList<>();
                for (Change c : batch.get().changes()) {
                    if (ChangeDispatcher.concerns(subtree, c)) {
                        changes.add(c);
                    }
                }
                if (!changes.isEmpty()) {
                    dispatcher.offer(new ChangeBatch(seq, changes));
                }
            }
        } catch (RuntimeException e) {
            if (closed) {
                return;
            }
            LOG.warn("reading the change history of {} failed; resynchronising the watch on {}", registry.uri(), subtree, e);
            dispatcher.resync("reading the change history failed (" + e.getMessage() + "); batches up to " + liveFrom + " may have been missed");
        }
    }

    /** Opens a new port and notes the sequence it goes on from; false when that failed (the caller tries again, waiting longer each time). */
    private boolean reopen(int failures) {
        java.util.concurrent.locks.LockSupport.parkNanos(Math.min(failures, 50) * 20_000_000L);
        try {
            BatchNotificationPort old = port;
            port = registry.openBatchPort();
            old.close();
            if (closed) {
                port.close(); // close() ran meanwhile and closed the old one: this one would stay open, collecting batches
                return false;
            }
            lastSequence = registry.sequenceForWatch();
            pending = null;
            return true;
        } catch (RuntimeException e) {
            LOG.warn("reopening the batch notification port of {} failed", registry.uri(), e);
            return false;
        }
    }

    /** Splits a notification into batches at each journal and completes them with their SET_VALUE data. */
    private void consume(List<BatchNotificationPort.Command> commands) {
        for (BatchNotificationPort.Command c : commands) {
            if (c.command() != ClusApiTypes.CLUSREG_SET_VALUE) {
                continue;
            }
            if (Reserved.JOURNAL.equals(c.name())) {
                if (pending != null) {
                    dispatcher.resync("batch " + pending.sequence() + " arrived without all its values");
                }
                pending = Journal.decode(c.data());
                pendingData.clear();
                pendingTypes.clear();
                pendingNames.clear();
            } else if (pending != null && !Reserved.isReserved(c.name())) {
                pendingData.add(c.data());
                pendingTypes.add(c.options());
                pendingNames.add(c.name());
            }
            if (pending != null && pendingData.size() == pending.valueSets()) {
                complete();
            }
        }
    }

    private void complete() {
        Journal.Decoded j = pending;
        pending = null;
        if (j.sequence() <= lastSequence) {
            return; // committed before the watch started (or delivered already)
        }
        if (j.sequence() > lastSequence + 1) {
            dispatcher.resync("batches " + (lastSequence + 1) + ".." + (j.sequence() - 1) + " were not seen by the notification port");
        }
        lastSequence = j.sequence();
        // the notification names each value in its mapped form (NativeNames); it must be the journal's name
        int set = 0;
        for (Journal.Entry e : j.entries()) {
            if (e.kind() == Journal.VALUE_SET && !NativeNames.encode(e.name()).equals(pendingNames.get(set++))) {
                dispatcher.resync("batch " + j.sequence() + " notified value \"" + pendingNames.get(set - 1)
                        + "\" where its journal has \"" + e.name() + "\"");
                return;
            }
        }
        List<Change> changes = new ArrayList<>();
        int v = 0;
        for (Journal.Entry e : j.entries()) {
            Change c = switch (e.kind()) {
                case Journal.KEY_CREATED -> new Change.KeyCreated(e.key());
                case Journal.KEY_DELETED -> new Change.KeyDeleted(e.key());
                case Journal.VALUE_DELETED -> new Change.ValueDeleted(e.key(), e.name());
                default -> {
                    RegistryValue value = RegistryValue.of(ValueType.fromWindowsCode(pendingTypes.get(v)), pendingData.get(v));
                    v++;
                    yield new Change.ValueSet(e.key(), e.name(), new VersionedValue(value, j.sequence()));
                }
            };
            if (ChangeDispatcher.concerns(subtree, c)) {
                changes.add(c);
            }
        }
        if (!changes.isEmpty()) {
            dispatcher.offer(new ChangeBatch(j.sequence(), changes));
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        dispatcher.close();
        port.close();
        if (Thread.currentThread() != reader) {
            try {
                reader.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        registry.forget(this);
    }

    @Override
    public String toString() {
        return "ClusapiWatch[" + subtree + "]";
    }
}
