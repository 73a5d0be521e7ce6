package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
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
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedded registry: the whole tree in memory as an immutable, path-copied structure, made
 * durable by a write-ahead log with group commit and periodic snapshots in one directory. See
 * docs/embedded-backend.md.
 *
 * <h2>Commit path</h2>
 * A committing thread evaluates its batch against the newest tree and appends the framed record
 * to an in-memory log buffer under {@code applyLock} (microseconds, never across I/O). A SYNC
 * caller then waits until its sequence is durable: the flushing thread (the dedicated writer by
 * default; with {@code groupCommit=leader} the first waiter to find no flush running) swaps the
 * buffer, writes and forces it, publishes, and only then advances {@code durableSequence}; the
 * others are covered by that force or by the next one. ASYNC batches publish at once; the
 * background flusher makes them durable every {@code asyncFlushIntervalMs}.
 *
 * <h2>Visibility</h2>
 * Readers read the {@code published} version with one volatile read and never lock. A SYNC batch
 * is published after its fsync; an ASYNC batch at once (together with every earlier batch, since
 * visible state is always a prefix of the commit order).
 *
 * <h2>Failure</h2>
 * A failed log write or fsync stops the registry from writing (fail-stop): after a failed fsync
 * the kernel may have dropped the dirty pages and cleared the error, so a retry could "succeed"
 * without the data being on disk. Only reopening, which replays what really is on disk, is safe.
 */
final class EmbeddedRegistry implements ClusterRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    static final String SCHEME = "embedded";
    /** Values up to the contract's 1 MiB; a batch up to 16 MiB and 10,000 commands. */
    static final RegistryLimits LIMITS = new RegistryLimits(RegistryValue.MAX_SIZE, 16L * 1024 * 1024, 10_000);
    /** Batches a watch may fall behind by before it is resynchronised. */
    static final int WATCH_QUEUE_CAPACITY = 10_000;
    static final String LOCK_FILE = "registry.lock";
    /**
     * Log bytes waiting to be written beyond which an ASYNC commit waits for a flush: back-pressure so
     * that writers faster than the disk cannot grow memory without bound.
     */
    static final int ASYNC_BACKLOG_BYTES = 32 * 1024 * 1024;
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
    private final ChannelFactory channels;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final WriteAheadLog wal;

    private final ReentrantLock applyLock = new ReentrantLock();
    // ---- guarded by applyLock
    private TreeState latest;
    private LogCodec.RecordBuffer pending = new LogCodec.RecordBuffer();
    private final ArrayDeque<ChangeBatch> unpublished = new ArrayDeque<>();
    private final ArrayDeque<PendingAsync> asyncWaiting = new ArrayDeque<>();
    private final List<EmbeddedWatch> watches = new ArrayList<>();
    private boolean closing;
    // ---- read without the lock
    private volatile TreeState published;
    private volatile long durableSequence;
    private volatile long lastSequence;
    private volatile int backlogBytes;
    /** Why writing the log failed; once set, the registry refuses every write until reopened (fail-stop). */
    private volatile Throwable failure;
    private volatile boolean closed;
    // ---- owned by the thread that holds `flushing`
    private LogCodec.RecordBuffer spare = new LogCodec.RecordBuffer();
    private final AtomicBoolean flushing = new AtomicBoolean();
    private final ReentrantLock waitLock = new ReentrantLock();
    private final Condition flushDone = waitLock.newCondition();
    private final Condition writeRequested = waitLock.newCondition();
    /** The dedicated log writer in {@code groupCommit=writer} mode, else null. */
    private final Thread writer;
    private volatile boolean stopWriter;

    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    private final ScheduledExecutorService flushTimer;
    private final ExecutorService snapshotter;
    private final ExecutorService completions;

    private record PendingAsync(long sequence, CompletableFuture<CommitResult> future) {
    }

    private EmbeddedRegistry(Path dir, EmbeddedOptions options, ChannelFactory channels, FileChannel lockChannel, FileLock lock,
                             TreeState recovered, WriteAheadLog wal) {
        this.dir = dir;
        this.uri = SCHEME + ":" + dir;
        this.options = options;
        this.channels = channels;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.wal = wal;
        this.latest = recovered;
        this.published = recovered;
        this.durableSequence = recovered.sequence();
        this.lastSequence = recovered.sequence();
        String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        this.flushTimer = Executors.newSingleThreadScheduledExecutor(daemon("registry-flusher " + name));
        this.snapshotter = Executors.newSingleThreadExecutor(daemon("registry-snapshot " + name));
        this.completions = Executors.newSingleThreadExecutor(daemon("registry-async-completion " + name));
        flushTimer.scheduleWithFixedDelay(this::flushAsyncBatches, options.asyncFlushIntervalMillis(),
                options.asyncFlushIntervalMillis(), TimeUnit.MILLISECONDS);
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
    // open (recovery: EmbeddedRecovery)
    // =========================================================================================

    static EmbeddedRegistry open(Path directory, EmbeddedOptions options, ChannelFactory channels) {
        Path dir = directory.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RegistryUnavailableException("cannot create the embedded registry directory " + dir + ": " + e, e);
        }
        FileChannel lockChannel;
        try {
            lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new RegistryUnavailableException("cannot open the lock file " + dir.resolve(LOCK_FILE) + ": " + e, e);
        }
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            closeQuietly(lockChannel);
            throw new RegistryUnavailableException("the embedded registry directory " + dir
                    + " is already open in this process; open it once and share the registry", e);
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new RegistryUnavailableException("cannot lock " + dir.resolve(LOCK_FILE) + ": " + e, e);
        }
        if (lock == null) {
            closeQuietly(lockChannel);
            throw new RegistryUnavailableException("the embedded registry directory " + dir
                    + " is in use by another process (it holds the lock on " + dir.resolve(LOCK_FILE)
                    + "); only one process may open a directory at a time", null);
        }
        try {
            TreeState state = EmbeddedRecovery.recover(dir, options.truncateDamagedTail());
            List<Path> segments = WriteAheadLog.segments(dir);
            Path current = segments.isEmpty()
                    ? WriteAheadLog.createSegment(dir, channels, state.sequence() + 1)
                    : segments.get(segments.size() - 1);
            WriteAheadLog wal = new WriteAheadLog(dir, channels, current);
            LOG.debug("opened embedded registry {} at sequence {}", dir, state.sequence());
            return new EmbeddedRegistry(dir, options, channels, lockChannel, lock, state, wal);
        } catch (IOException e) {
            releaseQuietly(lock, lockChannel);
            throw new RegistryUnavailableException("cannot open the embedded registry " + dir + ": " + e, e);
        } catch (RuntimeException | Error e) {
            releaseQuietly(lock, lockChannel);
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
        checkWritable(batch);
        long sequence = applyAndLog(batch, null);
        awaitDurable(sequence);
        return new CommitResult(sequence);
    }

    @Override
    public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) {
        checkWritable(batch);
        CompletableFuture<CommitResult> future = new CompletableFuture<>();
        try {
            long sequence = applyAndLog(batch, future);
            if (backlogBytes > ASYNC_BACKLOG_BYTES) {
                awaitDurable(sequence);
            }
        } catch (RegistryException e) {
            if (!future.isDone()) {
                future.completeExceptionally(e);
            }
        }
        return future;
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
     * sequence (the current one when it changed nothing). With {@code async} set, publishes at once
     * and queues the future for completion when durable.
     */
    private long applyAndLog(WriteBatch batch, CompletableFuture<CommitResult> async) {
        applyLock.lock();
        try {
            requireWritableLocked();
            TreeState current = latest;
            TreeOps.Applied applied = TreeOps.apply(current.root(), batch.commands(), current.sequence() + 1);
            long sequence = current.sequence();
            if (!applied.changes().isEmpty()) {
                sequence++;
                int mark = pending.size();
                try {
                    LogCodec.encodeBatch(pending, sequence, batch.commands());
                } catch (RuntimeException | Error e) {
                    pending.truncate(mark); // never leave half a record in the buffer
                    throw e;
                }
                latest = new TreeState(applied.root(), sequence, current.faults());
                lastSequence = sequence;
                backlogBytes = pending.size();
                unpublished.addLast(new ChangeBatch(sequence, applied.changes()));
            }
            if (async != null) {
                publishLocked(latest);
                if (durableSequence >= sequence) {
                    async.complete(new CommitResult(sequence));
                } else {
                    asyncWaiting.addLast(new PendingAsync(sequence, async));
                }
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
        Throwable f = failure;
        if (f != null) {
            throw new RegistryStoppedException(stoppedBecause(f), f, false);
        }
    }

    /** Returns once every batch up to {@code sequence} is forced to disk and published. */
    private void awaitDurable(long sequence) {
        if (writer != null && !stopWriter && Thread.currentThread() != writer) {
            waitLock.lock();
            try {
                writeRequested.signal();
                while (durableSequence < sequence && failure == null && !stopWriter) {
                    flushDone.awaitUninterruptibly();
                }
            } finally {
                waitLock.unlock();
            }
        }
        leadOrFollow(sequence);
    }

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
                    waitLock.lock();
                    try {
                        flushing.set(false);
                        flushDone.signalAll();
                    } finally {
                        waitLock.unlock();
                    }
                }
            } else {
                waitLock.lock();
                try {
                    while (flushing.get() && durableSequence < sequence) {
                        flushDone.awaitUninterruptibly();
                    }
                } finally {
                    waitLock.unlock();
                }
            }
        }
    }

    /** Writes and forces everything appended so far, then publishes it. Caller holds {@code flushing}. */
    private void flushOnce() {
        LogCodec.RecordBuffer toWrite;
        TreeState upTo;
        applyLock.lock();
        try {
            if (failure != null) {
                return;
            }
            toWrite = pending;
            pending = spare;
            upTo = latest;
            backlogBytes = 0;
        } finally {
            applyLock.unlock();
        }
        try {
            if (toWrite.size() > 0) {
                wal.write(toWrite.array(), toWrite.size());
                wal.force();
            }
        } catch (IOException | RuntimeException | Error e) {
            // an Error too (the JDK's "Cannot reserve ... bytes of direct buffer memory"): the buffer is
            // dropped below, so carrying on would log later batches after a gap and call them durable
            fail(e);
            return;
        } finally {
            toWrite.reset();
            spare = toWrite;
        }
        List<PendingAsync> done = null;
        applyLock.lock();
        try {
            // publish before announcing durability: a committer that sees durableSequence cover its
            // batch returns at once, and its next read must see the batch (read-your-writes)
            publishLocked(upTo);
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
            } catch (java.util.concurrent.RejectedExecutionException e) {
                complete.run(); // closing
            }
        }
        maybeSnapshot(upTo);
    }

    /** {@code groupCommit=writer}: one thread does every SYNC write and force; committers wait for it. */
    private void writerLoop() {
        while (true) {
            waitLock.lock();
            try {
                while (!stopWriter && lastSequence <= durableSequence) {
                    writeRequested.awaitUninterruptibly();
                }
                if (stopWriter) {
                    flushDone.signalAll();
                    return;
                }
            } finally {
                waitLock.unlock();
            }
            try {
                leadOrFollow(lastSequence);
            } catch (RegistryException e) {
                // failed: fail() logged it; committers see the failure and stop waiting
                waitLock.lock();
                try {
                    flushDone.signalAll();
                    while (!stopWriter) {
                        writeRequested.awaitUninterruptibly();
                    }
                    return;
                } finally {
                    waitLock.unlock();
                }
            }
        }
    }

    /** The background flusher: makes ASYNC batches durable at most {@code asyncFlushIntervalMs} after they were committed. */
    private void flushAsyncBatches() {
        try {
            long target = lastSequence;
            if (target > durableSequence && failure == null && !closed) {
                awaitDurable(target);
            }
        } catch (RegistryException e) {
            // the failure is logged once by fail(); the registry refuses writes from now on
        } catch (RuntimeException e) {
            LOG.error("embedded registry {}: background flush failed", dir, e);
        }
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
        LOG.error("embedded registry {}: writing the log failed; it refuses writes until it is reopened (fail-stop: after a failed "
                + "fsync the kernel may have dropped the data, so retrying could falsely succeed)", dir, cause);
        for (PendingAsync p : abandoned) {
            p.future().completeExceptionally(new RegistryStoppedException(stoppedBecause(cause)
                    + "; this ASYNC batch was not yet durable and may be lost: read it after reopening", cause, true));
        }
    }

    /** What every error and health report of a stopped registry says. */
    private String stoppedBecause(Throwable cause) {
        return "the embedded registry " + dir + " stopped accepting writes after writing its log failed (" + cause + "); it does"
                + " not retry (after a failed write or fsync it cannot vouch for what is on disk): fix the cause, then close and reopen it";
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

    /** After the log passed the threshold: continue in a new segment and snapshot the durable state in the background. */
    private void maybeSnapshot(TreeState durable) {
        if (wal.segmentBytes() < options.snapshotThresholdBytes() || !snapshotRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            wal.rotate(durable.sequence() + 1);
        } catch (IOException e) {
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
        } catch (java.util.concurrent.RejectedExecutionException e) {
            snapshotRunning.set(false); // closing: the log holds everything
        }
    }

    private void writeSnapshot(TreeState state) {
        try {
            Path file = SnapshotFiles.write(dir, channels, state);
            EmbeddedRecovery.removeObsolete(dir, state.sequence());
            LOG.debug("embedded registry {}: snapshot {} written; older log segments removed", dir, file.getFileName());
        } catch (IOException | RuntimeException e) {
            // nothing is lost: the previous snapshot and every log segment since are kept
            LOG.warn("embedded registry {}: writing a snapshot at sequence {} failed; the log is kept and a snapshot will be tried again",
                    dir, state.sequence(), e);
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

    @Override
    public HealthReport checkHealth() {
        readable();
        long start = System.nanoTime();
        Throwable f = failure;
        boolean locked = lock.isValid();
        boolean healthy = f == null && locked;
        String detail;
        if (f != null) {
            detail = stoppedBecause(f);
        } else if (!locked) {
            detail = "embedded registry " + dir + " lost the lock on its directory";
        } else {
            detail = "embedded registry " + dir + ": log writable, durable up to sequence " + durableSequence
                    + ", log segment " + wal.segment().getFileName() + " at " + wal.segmentBytes() + " bytes";
        }
        return new HealthReport(healthy, detail, Duration.ofNanos(System.nanoTime() - start));
    }

    /** The stored faults, plus {@value #STOPPED_FAULT_ID} while the registry is stopped (not stored: it cannot write). */
    @Override
    public List<HealthFault> healthFaults() {
        TreeState s = readable();
        List<HealthFault> out = new ArrayList<>(PersistentSortedMap.size(s.faults()) + 1);
        Throwable f = failure;
        if (f != null) {
            out.add(new HealthFault(STOPPED_FAULT_ID, 1, 0, stoppedBecause(f), "embedded registry", 0));
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
            TreeState current = latest;
            sequence = current.sequence() + 1;
            LogCodec.encodeFaultPut(pending, sequence, fault);
            latest = new TreeState(current.root(), sequence, PersistentSortedMap.put(current.faults(), fault.id(), fault));
            lastSequence = sequence;
        } finally {
            applyLock.unlock();
        }
        awaitDurable(sequence);
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
            TreeState current = latest;
            existed = PersistentSortedMap.get(current.faults(), id) != null;
            if (!existed) {
                sequence = current.sequence();
            } else {
                sequence = current.sequence() + 1;
                LogCodec.encodeFaultRemove(pending, sequence, id);
                latest = new TreeState(current.root(), sequence, PersistentSortedMap.remove(current.faults(), id));
                lastSequence = sequence;
            }
        } finally {
            applyLock.unlock();
        }
        awaitDurable(sequence);
        return existed;
    }

    // =========================================================================================
    // lifecycle
    // =========================================================================================

    @Override
    public void close() {
        applyLock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
        } finally {
            applyLock.unlock();
        }
        // shutdown, not shutdownNow: the flusher may be writing the log itself (groupCommit=leader), and
        // interrupting a thread blocked in a FileChannel closes the channel and fails the registry
        flushTimer.shutdown();
        awaitTermination(flushTimer, "flusher");
        try {
            if (failure == null) {
                leadOrFollow(lastSequence);
            }
        } catch (RuntimeException e) {
            LOG.warn("embedded registry {}: the final flush on close failed", dir, e);
        }
        if (writer != null) {
            waitLock.lock();
            try {
                stopWriter = true;
                writeRequested.signalAll();
                flushDone.signalAll();
            } finally {
                waitLock.unlock();
            }
            try {
                writer.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closed = true;
        snapshotter.shutdown();
        awaitTermination(snapshotter, "snapshot writer");
        List<EmbeddedWatch> open;
        applyLock.lock();
        try {
            open = new ArrayList<>(watches);
            watches.clear();
        } finally {
            applyLock.unlock();
        }
        open.forEach(EmbeddedWatch::stopDelivering);
        completions.shutdown();
        awaitTermination(completions, "async completion");
        try {
            wal.close();
        } catch (IOException e) {
            LOG.warn("embedded registry {}: closing the log failed", dir, e);
        }
        releaseQuietly(lock, lockChannel);
        LOG.debug("closed embedded registry {} at sequence {}", dir, durableSequence);
    }

    private void awaitTermination(ExecutorService executor, String what) {
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                LOG.warn("embedded registry {}: the {} thread did not stop within 60 s", dir, what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private RegistryClosedException closedException() {
        return new RegistryClosedException("the embedded registry " + dir);
    }

    private static void releaseQuietly(FileLock lock, FileChannel channel) {
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing the registry lock failed", e);
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", channel, e);
        }
    }

    Path directory() {
        return dir;
    }

    /** Whether a snapshot is being written (tests wait for it to finish). */
    boolean snapshotInProgress() {
        return snapshotRunning.get();
    }

    @Override
    public String toString() {
        return "EmbeddedRegistry[" + dir + "]";
    }

    static RegistryArgumentException badUri(String uri, String why) {
        return new RegistryArgumentException("embedded registry URI \"" + uri + "\" " + why + "; use embedded:<directory>, e.g. embedded:./data or embedded:/var/lib/app/registry");
    }

}
