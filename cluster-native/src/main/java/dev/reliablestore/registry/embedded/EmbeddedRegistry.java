package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.spi.ChangeDispatcher;
import dev.reliablestore.registry.spi.ReplayCheckpoints;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The embedded registry: the whole tree in memory as an immutable, path-copied structure, made
 * durable by a write-ahead log with group commit and periodic snapshots in one directory. See
 * docs/embedded-backend.md.
 *
 * <p>This class is the facade: reads of the {@code published} version (one volatile read, no
 * locks), the evaluation of a batch against the newest tree, publication to readers and watches,
 * health and lifecycle. Durability is the {@link GroupCommitLog}'s (group commit, the writer thread,
 * fsync, fail-stop, snapshots); opening a directory replays it through {@link EmbeddedRecovery};
 * watches are {@link EmbeddedWatch}es.
 *
 * <h2>Visibility</h2>
 * Readers read the {@code published} version with one volatile read and never lock. A SYNC batch
 * is published after its fsync; an ASYNC batch at once (together with every earlier batch, since
 * visible state is always a prefix of the commit order).
 */
final class EmbeddedRegistry implements ClusterRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    static final String SCHEME = "embedded";
    /** Values up to the contract's 1 MiB; a batch up to 16 MiB and 10,000 commands. */
    static final RegistryLimits LIMITS = new RegistryLimits(RegistryValue.MAX_SIZE, 16L * 1024 * 1024, 10_000);
    /** Batches a watch may fall behind by before it is resynchronised. */
    static final int WATCH_QUEUE_CAPACITY = 10_000;
    static final String LOCK_FILE = DirectoryLock.LOCK_FILE;
    /** How long {@link #close()} waits in all for its background threads. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(60);
    /**
     * Characters a health fault's description and provider may hold together (1 MiB as UTF-16, like
     * a value): keeps its log record far below {@link LogCodec#MAX_RECORD_BYTES}, the most that
     * recovery reads back.
     */
    static final int MAX_FAULT_TEXT_CHARS = RegistryValue.MAX_SIZE / 2;
    /** The health fault a stopped registry reports (docs/embedded-backend.md, fail-stop). */
    static final String STOPPED_FAULT_ID = "embedded-registry-stopped";

    private final Path dir;
    private final String uri;
    private final EmbeddedOptions options;
    private final DirectoryLock lock;

    /** Orders evaluation, appends to the log and publication; shared with the log. */
    private final ReentrantLock applyLock = new ReentrantLock();
    // ---- guarded by applyLock
    private final ArrayDeque<ChangeBatch> unpublished = new ArrayDeque<>();
    private final List<EmbeddedWatch> watches = new ArrayList<>();
    /** The history readers of replaying watches (close waits for them: they may write the feed floor). */
    private final Set<Thread> readers = ConcurrentHashMap.newKeySet();
    private boolean closing;
    // ---- read without the lock
    private volatile TreeState published;
    private volatile boolean closed;

    private final GroupCommitLog log;
    private final FeedHistory history;

    private EmbeddedRegistry(Path dir, EmbeddedOptions options, ChannelFactory channels, DirectoryLock lock,
                             TreeState recovered, WriteAheadLog wal, FeedHistory history) {
        this.dir = dir;
        this.uri = SCHEME + ":" + dir;
        this.options = options;
        this.lock = lock;
        this.published = recovered;
        this.history = history;
        String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        this.log = new GroupCommitLog(dir, name, options, channels, wal, recovered, applyLock, this::publishLocked, history);
    }

    // =========================================================================================
    // open (recovery: EmbeddedRecovery)
    // =========================================================================================

    static EmbeddedRegistry open(Path directory, EmbeddedOptions options, ChannelFactory channels) {
        return open(directory, options, channels, System::currentTimeMillis);
    }

    /**
     * Creates {@code dir} and its missing parents, each flushed into its parent, and flushes
     * {@code dir}'s own entry even when it existed (a process that crashed right after creating it
     * left an entry a power loss can take): the log segments fsynced into it are durable only then.
     * Through {@code channels}, so fault injection reaches these flushes too.
     */
    private static void createDirectories(Path dir, ChannelFactory channels) throws IOException {
        java.util.Deque<Path> missing = new java.util.ArrayDeque<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        boolean existed = missing.isEmpty();
        while (!missing.isEmpty()) {
            Path p = missing.pop();
            try {
                Files.createDirectory(p);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                if (!Files.isDirectory(p)) {
                    throw raced;
                }
            }
            if (p.getParent() != null && !p.equals(dir)) {
                channels.syncDirectory(p.getParent());
            }
        }
        if (dir.getParent() != null) {
            try {
                channels.syncDirectory(dir.getParent());
            } catch (IOException e) {
                if (!existed) {
                    throw e;
                }
                // an existing directory under a parent this process may not read (mode 0711): its entry is old
                LOG.debug("could not flush {} (the parent of the existing registry directory): {}", dir.getParent(), e.toString());
            }
        }
    }

    /**
     * A process killed between its write and its fsync (or between a rename and the directory's fsync) leaves
     * what it wrote in the page cache, where recovery reads it as committed; a power loss can still take it.
     * Recovered batches count as durable (awaitDurable, replays, shipping to other sites, conditions), and new
     * ones are appended after them, so the newest segment and the directory's entries are made durable first.
     */
    private static void makeRecoveredDurable(Path dir, ChannelFactory channels) throws IOException {
        channels.syncDirectory(dir);
        List<Path> segments = WriteAheadLog.segments(dir);
        if (!segments.isEmpty()) {
            try (java.nio.channels.FileChannel newest = channels.open(segments.get(segments.size() - 1), java.nio.file.StandardOpenOption.WRITE)) {
                newest.force(true);
            }
        }
    }

    /** {@code clock} (epoch milliseconds) judges the age of log segments against {@code feedRetention}. */
    static EmbeddedRegistry open(Path directory, EmbeddedOptions options, ChannelFactory channels, LongSupplier clock) {
        Path dir = directory.toAbsolutePath().normalize();
        try {
            createDirectories(dir, channels);
        } catch (IOException e) {
            throw new RegistryUnavailableException("cannot create the embedded registry directory " + dir + ": " + e, e);
        }
        DirectoryLock lock = DirectoryLock.acquire(dir);
        try {
            EmbeddedRecovery.Recovered recovered = EmbeddedRecovery.recover(dir, channels, options.truncateDamagedTail());
            try {
                makeRecoveredDurable(dir, channels);
            } catch (IOException e) {
                // what recovery read may be in clean pages of the page cache only, and the next open's fsync would have nothing to write
                throw new IOException(e + "; what recovery read may not be on disk: before opening it again in this boot, restart the"
                        + " machine or drop the page cache", e);
            }
            TreeState state = recovered.state();
            FeedHistory history = FeedHistory.open(dir, channels, options.feedRetention(), clock, state.sequence(), recovered.legacyUpTo());
            history.removeObsolete(recovered.snapshotSequence());
            List<Path> segments = WriteAheadLog.segments(dir);
            Path current = segments.isEmpty()
                    ? WriteAheadLog.createSegment(dir, channels, state.sequence() + 1)
                    : segments.get(segments.size() - 1);
            long end = segments.isEmpty() ? 0 : recovered.newestEnd();
            history.refresh();
            WriteAheadLog wal = new WriteAheadLog(dir, channels, current, end, options.snapshotThreshold());
            LOG.debug("opened embedded registry {} at sequence {}, replayable after {}", dir, state.sequence(), history.replayableAfter());
            return new EmbeddedRegistry(dir, options, channels, lock, state, wal, history);
        } catch (IOException e) {
            lock.release();
            throw new RegistryUnavailableException("cannot open the embedded registry " + dir + ": " + e, e);
        } catch (RuntimeException | Error e) {
            lock.release();
            throw e;
        }
    }

    // =========================================================================================
    // reads: the published version, no locks
    // =========================================================================================

    @Override
    public String uri() {
        return uri;
    }

    @Override
    public RegistryLimits limits() {
        return LIMITS;
    }

    @Override
    public Optional<VersionedValue> getValue(RegistryPath key, String name) {
        Objects.requireNonNull(key, "key");
        RegistryPath.checkName(name, "value name");
        TreeState s = readable();
        return Optional.ofNullable(TreeOps.value(s.root(), key, name));
    }

    @Override
    public boolean keyExists(RegistryPath key) {
        Objects.requireNonNull(key, "key");
        return TreeOps.find(readable().root(), key) != null;
    }

    @Override
    public List<String> subkeys(RegistryPath key) {
        Objects.requireNonNull(key, "key");
        KeyNode n = TreeOps.find(readable().root(), key);
        if (n == null) {
            throw new NoSuchKeyException(key);
        }
        return Collections.unmodifiableList(PersistentSortedMap.keys(n.children));
    }

    @Override
    public Map<String, VersionedValue> values(RegistryPath key) {
        Objects.requireNonNull(key, "key");
        KeyNode n = TreeOps.find(readable().root(), key);
        if (n == null) {
            throw new NoSuchKeyException(key);
        }
        return valuesOf(n);
    }

    private static Map<String, VersionedValue> valuesOf(KeyNode n) {
        Map<String, VersionedValue> out = new LinkedHashMap<>();
        PersistentSortedMap.forEach(n.values, out::put);
        return Collections.unmodifiableMap(out);
    }

    @Override
    public ReadBatchResult read(ReadBatch batch) {
        Objects.requireNonNull(batch, "batch");
        TreeState s = readable();
        List<Optional<?>> answers = new ArrayList<>(batch.reads().size());
        for (ReadBatch.Read r : batch.reads()) {
            KeyNode n = TreeOps.find(s.root(), r.key());
            if (r instanceof ReadBatch.ValueRead v) {
                answers.add(Optional.ofNullable(n == null ? null : n.value(v.name())));
            } else if (r instanceof ReadBatch.ValuesRead) {
                answers.add(n == null ? Optional.empty() : Optional.of(valuesOf(n)));
            } else {
                answers.add(n == null ? Optional.empty() : Optional.of(Collections.unmodifiableList(PersistentSortedMap.keys(n.children))));
            }
        }
        return new ReadBatchResult(s.sequence(), answers);
    }

    @Override
    public long currentSequence() {
        return readable().sequence();
    }

    private TreeState readable() {
        if (closed) {
            throw closedException();
        }
        return published;
    }

    // =========================================================================================
    // writes
    // =========================================================================================

    @Override
    public CommitResult commit(WriteBatch batch) {
        if (CommitProbe.ENABLED) {
            CommitProbe.committer(CommitProbe.ENTER);
        }
        checkWritable(batch);
        long sequence = applyAndLog(batch, null, false);
        if (CommitProbe.ENABLED) {
            CommitProbe.committer(CommitProbe.APPENDED);
        }
        log.awaitDurable(sequence);
        if (CommitProbe.ENABLED) {
            CommitProbe.committer(CommitProbe.RETURNED);
        }
        return new CommitResult(sequence);
    }

    @Override
    public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) {
        return commitWithFuture(batch, true);
    }

    /**
     * A SYNC batch answered through a future: published to reads and watches once durable, as by
     * {@link #commit}, and written by the writer (or the flusher) rather than on the caller's thread.
     */
    @Override
    public CompletableFuture<CommitResult> syncCommitAsync(WriteBatch batch) {
        return commitWithFuture(batch, false);
    }

    /** {@code publishNow}: ASYNC, else SYNC answered by the future (see {@link #applyAndLog}). */
    private CompletableFuture<CommitResult> commitWithFuture(WriteBatch batch, boolean publishNow) {
        checkWritable(batch);
        AppliedCommit future = new AppliedCommit();
        try {
            long sequence = applyAndLog(batch, future, publishNow);
            future.appliedAt = publishNow ? sequence : 0;
            if (log.backlogExceeded()) {
                log.awaitDurable(sequence); // back-pressure: writers faster than the disk must not grow memory without bound
            }
        } catch (RegistryException e) {
            if (!future.isDone()) {
                future.completeExceptionally(e);
            }
        }
        return future;
    }

    /** Conditions are evaluated and the batch applied in {@code applyAndLog}, before commitAsync returns. */
    @Override
    public boolean appliesBeforeCommitAsyncReturns() {
        return true;
    }

    @Override
    public OptionalLong appliedSequence(CompletableFuture<CommitResult> pending) {
        return pending instanceof AppliedCommit a && a.appliedAt > 0 ? OptionalLong.of(a.appliedAt) : OptionalLong.empty();
    }

    /** A commitAsync future that knows the sequence its batch was published at before it is durable. */
    private static final class AppliedCommit extends CompletableFuture<CommitResult> {
        /** Set by the committing thread before commitAsync returns it; read by that thread (appliedSequence). */
        long appliedAt;
    }

    @Override
    public long awaitDurable() {
        // what a read or a watch was shown: ASYNC batches are published before their force
        long shown = readable().sequence();
        log.awaitDurable(shown);
        return shown;
    }

    private void checkWritable(WriteBatch batch) {
        Objects.requireNonNull(batch, "batch");
        if (closed) {
            throw closedException();
        }
        if (batch.size() > LIMITS.maxBatchCommands()) {
            throw new RegistryLimitException("write batch has " + batch.size() + " commands; the embedded registry's limit is "
                    + LIMITS.maxBatchCommands(), batch.size(), LIMITS.maxBatchCommands());
        }
        if (batch.encodedSize() > LIMITS.maxBatchBytes()) {
            throw new RegistryLimitException("write batch is " + batch.encodedSize() + " bytes (WriteBatch.encodedSize); the embedded registry's limit is "
                    + LIMITS.maxBatchBytes(), batch.encodedSize(), LIMITS.maxBatchBytes());
        }
    }

    /**
     * Evaluates the batch against the newest tree and appends it to the log buffer. Returns its
     * sequence (the current one when it changed nothing). With {@code future} set, queues it for
     * completion when durable: {@code publishNow} (ASYNC) publishes at once, else (a SYNC batch
     * answered by a future) the batch is flushed now and published by that flush.
     */
    private long applyAndLog(WriteBatch batch, CompletableFuture<CommitResult> future, boolean publishNow) {
        applyLock.lock();
        try {
            requireWritableLocked();
            TreeState current = log.latestLocked();
            TreeOps.Applied applied = TreeOps.apply(current.root(), batch.commands(), current.sequence() + 1);
            long sequence = current.sequence();
            if (!applied.changes().isEmpty()) {
                long next = current.sequence() + 1;
                log.appendLocked(new TreeState(applied.root(), next, current.faults()),
                        buffer -> LogCodec.encodeChanges(buffer, next, applied.changes()));
                unpublished.addLast(new ChangeBatch(next, applied.changes()));
                sequence = next;
            }
            if (future != null && publishNow) {
                publishLocked(log.latestLocked());
                log.completeWhenDurableLocked(sequence, future);
            } else if (future != null) {
                log.flushAndCompleteLocked(sequence, future);
            }
            return sequence;
        } finally {
            applyLock.unlock();
        }
    }

    private void requireWritableLocked() {
        if (closing) {
            throw closedException();
        }
        log.requireWritableLocked();
    }

    /** Makes {@code s} visible to readers and hands its batches to the watches. Caller holds applyLock. */
    private void publishLocked(TreeState s) {
        if (s.sequence() <= published.sequence()) {
            return;
        }
        published = s;
        while (!unpublished.isEmpty() && unpublished.peekFirst().sequence() <= s.sequence()) {
            ChangeBatch batch = unpublished.pollFirst();
            for (int i = 0, n = watches.size(); i < n; i++) {
                watches.get(i).deliver(batch);
            }
        }
    }

    // =========================================================================================
    // change feed
    // =========================================================================================

    @Override
    public Watch watch(RegistryPath subtree, ChangeListener listener) {
        Objects.requireNonNull(subtree, "subtree");
        Objects.requireNonNull(listener, "listener");
        applyLock.lock();
        try {
            if (closing) {
                throw closedException();
            }
            EmbeddedWatch w = new EmbeddedWatch(subtree, listener, published.sequence(), WATCH_QUEUE_CAPACITY, this::unwatch);
            watches.add(w);
            return w;
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * Registers the watch at the published sequence P (see {@link EmbeddedWatch}, "Replaying") and
     * starts a thread that reads the history up to P, and up to where live batches it had to drop
     * reach, from the log.
     */
    @Override
    public Watch watch(RegistryPath subtree, long afterSequence, ChangeListener listener) {
        Objects.requireNonNull(subtree, "subtree");
        Objects.requireNonNull(listener, "listener");
        ReplayCheckpoints.requireReached(afterSequence, currentSequence(), "the embedded registry " + dir);
        // pinned before the applyLock: a cleanup holding the history's lock over its deletions never delays commits
        FeedHistory.Pin pin = history.pin(afterSequence);
        EmbeddedWatch w = null;
        Thread reader = null;
        boolean pinned = false; // whether the reader took the pin over
        applyLock.lock();
        try {
            if (closing) {
                throw closedException();
            }
            long published = this.published.sequence();
            if (afterSequence == published) {
                w = new EmbeddedWatch(subtree, listener, afterSequence, WATCH_QUEUE_CAPACITY, this::unwatch);
                watches.add(w);
                return w;
            }
            w = new EmbeddedWatch(subtree, listener, afterSequence, WATCH_QUEUE_CAPACITY, this::unwatch, published);
            watches.add(w);
            EmbeddedWatch watch = w;
            reader = new Thread(() -> {
                try {
                    replay(watch, pin);
                } finally {
                    readers.remove(Thread.currentThread());
                }
            }, "registry-replay " + (subtree.isRoot() ? "/" : subtree) + " after " + afterSequence);
            reader.setDaemon(true);
            readers.add(reader);
            pinned = true;
        } catch (RuntimeException | Error e) {
            // no reader will release the pin, nor close a watch it registered: a pin kept would stop retention for good
            if (w != null) {
                watches.remove(w);
                w.stopDelivering(); // its dispatcher's thread started with it
            }
            if (reader != null) {
                readers.remove(reader);
            }
            throw e;
        } finally {
            applyLock.unlock();
            if (!pinned) {
                pin.release(); // after the applyLock: the history's lock may be held over deletions, which commits never wait for
            }
        }
        try {
            reader.start();
        } catch (RuntimeException | Error e) {
            readers.remove(reader);
            pin.release();
            w.close();
            throw e;
        }
        return w;
    }

    /**
     * The history reader of a replaying watch: reads the log up to the watch's {@code readTo}
     * (once it is durable: ASYNC batches are published first), offering each batch with
     * backpressure, until the watch goes live. A part of the history it cannot read (damage in a
     * retained segment) is given up for good ({@link FeedHistory#raiseFloor}) and the listener
     * resynchronised; it then goes on after that part.
     */
    private void replay(EmbeddedWatch w, FeedHistory.Pin pin) {
        long readUpTo = w.startSequence();
        String failed = null;
        try {
            while (!w.isClosed()) {
                long target;
                applyLock.lock();
                try {
                    if (w.goLiveLocked(readUpTo)) {
                        return;
                    }
                    target = w.readToLocked();
                } finally {
                    applyLock.unlock();
                }
                log.awaitDurable(target);
                try {
                    if (history.read(readUpTo, target, pin, w::offerHistory) < target) {
                        return; // closed
                    }
                    readUpTo = target;
                } catch (FeedHistory.Unreadable e) {
                    if (w.isClosed()) {
                        return;
                    }
                    long skipped = Math.min(e.at(), target);
                    history.raiseFloor(skipped, e.getMessage());
                    w.resync("the history of the embedded registry " + dir + " could not be read: " + e.getMessage()
                            + "; batches up to sequence " + skipped + " may have been missed");
                    readUpTo = Math.max(readUpTo, skipped);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = "the history reader was interrupted";
        } catch (IOException | RuntimeException | Error e) {
            // an Error too (out of heap or direct memory reading a large record): the watch must not go silent, it goes
            // live after a resync as for any other failure
            LOG.warn("embedded registry {}: reading the history for a replaying watch failed", dir, e);
            failed = "reading the history of the embedded registry " + dir + " failed (" + e + ")";
        } finally {
            pin.release();
        }
        if (failed != null && !w.isClosed()) {
            applyLock.lock();
            try {
                w.goLiveAfterResyncLocked(failed + "; batches may have been missed");
            } finally {
                applyLock.unlock();
            }
        }
    }

    @Override
    public long replayableAfter() {
        readable();
        return history.replayableAfter();
    }

    private void unwatch(EmbeddedWatch w) {
        applyLock.lock();
        try {
            watches.remove(w);
        } finally {
            applyLock.unlock();
        }
    }

    // =========================================================================================
    // membership and health
    // =========================================================================================

    @Override
    public ClusterStatus status() {
        readable();
        String node = options.nodeName();
        return new ClusterStatus(SCHEME, node, Optional.of(node), List.of(new NodeInfo(node, NodeState.UP)));
    }

    /** One node that is always the primary: membership never changes, so the listener is never called. */
    @Override
    public Subscription addMembershipListener(MembershipListener listener) {
        Objects.requireNonNull(listener, "listener");
        readable();
        return () -> { };
    }

    /** Every read sees every committed batch already: there is nothing to wait for, once open. */
    @Override
    public void readBarrier() {
        readable();
    }

    @Override
    public String failover(Optional<String> target) {
        readable();
        throw singleNode("failover" + target.map(t -> " to " + t).orElse(""), target.orElse(null));
    }

    @Override
    public void drain(String node) {
        readable();
        throw singleNode("drain of " + node, node);
    }

    @Override
    public void resume(String node) {
        readable();
        throw singleNode("resume of " + node, node);
    }

    private NodeOperationRefusedException singleNode(String what, String node) {
        return new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNSUPPORTED, node, "the embedded registry " + uri()
                + " is one node (" + options.nodeName() + "), always the primary: there is no other node, so no " + what);
    }

    @Override
    public HealthReport checkHealth() {
        readable();
        long start = System.nanoTime();
        Throwable f = log.failure();
        boolean locked = lock.isValid();
        boolean healthy = f == null && locked;
        String detail;
        if (f != null) {
            detail = log.stoppedBecause(f);
        } else if (!locked) {
            detail = "embedded registry " + dir + " lost the lock on its directory";
        } else {
            detail = "embedded registry " + dir + ": log writable, durable up to sequence " + log.durableSequence()
                    + ", log segment " + log.segment().getFileName() + " at " + log.segmentBytes() + " bytes";
        }
        return new HealthReport(healthy, detail, Duration.ofNanos(System.nanoTime() - start));
    }

    /** The stored faults, plus {@value #STOPPED_FAULT_ID} while the registry is stopped (not stored: it cannot write). */
    @Override
    public List<HealthFault> healthFaults() {
        TreeState s = readable();
        List<HealthFault> out = new ArrayList<>(PersistentSortedMap.size(s.faults()) + 1);
        Throwable f = log.failure();
        if (f != null) {
            out.add(new HealthFault(STOPPED_FAULT_ID, 1, 0, log.stoppedBecause(f), "embedded registry", 0));
        }
        PersistentSortedMap.forEach(s.faults(), (id, stored) -> {
            if (f == null || !id.equals(STOPPED_FAULT_ID)) {
                out.add(stored);
            }
        });
        return Collections.unmodifiableList(out);
    }

    @Override
    public void addHealthFault(HealthFault fault) {
        Objects.requireNonNull(fault, "fault");
        readable();
        long chars = (long) fault.description().length() + fault.provider().length();
        if (chars > MAX_FAULT_TEXT_CHARS) {
            throw new RegistryLimitException("health fault \"" + fault.id() + "\" has " + chars
                    + " characters of description and provider; the embedded registry's limit is " + MAX_FAULT_TEXT_CHARS,
                    chars, MAX_FAULT_TEXT_CHARS);
        }
        long sequence;
        applyLock.lock();
        try {
            requireWritableLocked();
            TreeState current = log.latestLocked();
            long next = current.sequence() + 1;
            log.appendLocked(new TreeState(current.root(), next, PersistentSortedMap.put(current.faults(), fault.id(), fault)),
                    buffer -> LogCodec.encodeFaultPut(buffer, next, fault));
            sequence = next;
        } finally {
            applyLock.unlock();
        }
        log.awaitDurable(sequence);
    }

    @Override
    public boolean removeHealthFault(String id) {
        RegistryPath.checkName(id, "health fault id");
        readable();
        long sequence;
        boolean existed;
        applyLock.lock();
        try {
            requireWritableLocked();
            TreeState current = log.latestLocked();
            existed = PersistentSortedMap.get(current.faults(), id) != null;
            if (!existed) {
                sequence = current.sequence();
            } else {
                long next = current.sequence() + 1;
                log.appendLocked(new TreeState(current.root(), next, PersistentSortedMap.remove(current.faults(), id)),
                        buffer -> LogCodec.encodeFaultRemove(buffer, next, id));
                sequence = next;
            }
        } finally {
            applyLock.unlock();
        }
        log.awaitDurable(sequence);
        return existed;
    }

    // =========================================================================================
    // lifecycle
    // =========================================================================================

    @Override
    public void close() {
        close(CLOSE_WAIT);
    }

    /**
     * As {@link #close()}, waiting at most {@code wait} in all for the background threads. One that
     * is still running then (a disk that stopped answering) keeps the directory locked until it
     * ends: released at once, another registry could open the directory while it still writes there.
     */
    void close(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        applyLock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
        } finally {
            applyLock.unlock();
        }
        log.stopWriting(deadline);
        closed = true;
        List<EmbeddedWatch> open;
        applyLock.lock();
        try {
            open = new ArrayList<>(watches);
            watches.clear();
        } finally {
            applyLock.unlock();
        }
        // listener calls in progress are awaited together, within the close's own deadline (one stuck listener per
        // watch, waited for one after another, took the time the snapshot writer was to have)
        open.forEach(EmbeddedWatch::stopDelivering);
        long ownLimit = ChangeDispatcher.closeDeadline();
        long listenersBy = deadline - ownLimit < 0 ? deadline : ownLimit;
        open.forEach(w -> w.awaitDeliveryStopped(listenersBy));
        for (Thread reader : List.copyOf(readers)) {
            long millis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (millis <= 0) {
                break; // join(0) would wait for ever
            }
            try {
                reader.join(millis); // it sees its watch stopped at the next record, or within 100 ms waiting for its listener
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        log.close(deadline);
        List<String> running = new ArrayList<>(log.threadsTouchingFiles());
        List<Thread> stillReading = readers.stream().filter(Thread::isAlive).toList();
        if (!stillReading.isEmpty()) {
            running.add(stillReading.size() + " change-feed reader(s)");
        }
        if (running.isEmpty()) {
            lock.release();
            LOG.debug("closed embedded registry {} at sequence {}", dir, log.durableSequence());
            return;
        }
        LOG.warn("closed embedded registry {} at sequence {}, but {} did not stop within {} ms; the directory stays locked until"
                + " they end", dir, log.durableSequence(), String.join(", ", running), wait.toMillis());
        lock.closedWhileStillWriting();
        Thread releaser = new Thread(() -> {
            boolean interrupted = false;
            while (true) {
                try {
                    log.awaitThreadsTouchingFiles();
                    for (Thread reader : stillReading) {
                        reader.join();
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // unlocking early is what this thread exists to prevent
                }
            }
            lock.release();
            LOG.info("embedded registry {}: its last background thread ended; the directory is unlocked", dir);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }, "registry-unlock-after-close " + dir.getFileName());
        releaser.setDaemon(true);
        releaser.start();
    }

    private RegistryClosedException closedException() {
        return new RegistryClosedException("the embedded registry " + dir);
    }


    Path directory() {
        return dir;
    }

    /** The bytes of records in the current log segment, without its preallocated zeros (tests). */
    long segmentBytes() {
        return log.segmentBytes();
    }

    /** Whether a spare segment is prepared and waiting for the next rotation (tests). */
    boolean spareReady() {
        return log.spareReady();
    }

    /**
     * Tests: rotates the log and takes a snapshot now, then removes the log segments that are
     * obsolete as if the time were {@code now} (epoch milliseconds; {@code Long.MAX_VALUE}: every
     * segment the snapshot covers is past {@code feedRetention}).
     */
    void snapshotNow(long now) {
        log.snapshotNow(now);
    }

    /** Whether a snapshot is being written (tests wait for it to finish). */
    boolean snapshotInProgress() {
        return log.snapshotInProgress();
    }

    @Override
    public String toString() {
        return "EmbeddedRegistry[" + dir + "]";
    }

    static RegistryArgumentException badUri(String uri, String why) {
        return new RegistryArgumentException("embedded registry URI \"" + dev.reliablestore.registry.ClusterRegistries.redact(uri) + "\" " + why + "; use embedded:<directory>, e.g. embedded:./data or embedded:/var/lib/app/registry");
    }
}
