package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.spi.ReplayCheckpoints;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipListener;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeOperationRefusedException;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.clusapi.BatchPlanner.NativeCommand;
import dev.reliablestore.registry.clusapi.BatchPlanner.Plan;
import dev.reliablestore.registry.clusapi.BatchPlanner.Role;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The {@code clusapi://} backend: a {@link ClusterRegistry} on a key of the Windows Failover Cluster
 * database. See {@link BatchPlanner} for how batches, sequences and revisions map onto the cluster
 * registry and docs/windows.md for the whole mapping.
 */
final class ClusapiRegistry implements ClusterRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ClusapiRegistry.class);
    private static final int READ_ATTEMPTS = 10_000;
    /** Batch ids kept ({@link Reserved#BATCH_IDS}): how far the sequence may move before a reissued batch cannot be verified. */
    static final int BATCH_IDS_KEPT = 1024;
    private static final java.security.SecureRandom BATCH_IDS = new java.security.SecureRandom();

    private final ClusapiOptions options;
    private final ClusapiNatives natives;
    private final ClusApi api;
    private final Cluster cluster;
    private final ClusterKey base;
    private final HealthFaults faults;
    /** How long {@link #close()} waits for calls still using the cluster handles before it leaves them open. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final ReentrantLock commitLock = new ReentrantLock(true);
    /**
     * Held shared by every call that uses {@link #base} or {@link #cluster}, exclusively by
     * {@link #close()} while it frees them: clusapi's handles are client-side pointers, so a read
     * still running when they are closed would use freed memory.
     */
    private final ReentrantReadWriteLock handles = new ReentrantReadWriteLock();
    private final ExecutorService async;
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private volatile Thread asyncThread;
    /** Commit times of history records and the retention cut-off; replaced only by tests. */
    private volatile Clock clock = Clock.systemUTC();

    private ClusapiRegistry(ClusapiOptions options, ClusapiNatives natives, Cluster cluster, ClusterKey base) {
        this.options = options;
        this.natives = natives;
        this.api = natives.clusApi();
        this.cluster = cluster;
        this.base = base;
        this.faults = new HealthFaults(natives.resUtils(), natives.cdecl());
        this.async = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "clusapi-commit " + options.uri());
            t.setDaemon(true);
            asyncThread = t;
            return t;
        });
    }

    /** Opens the cluster and creates the base key when missing. */
    static ClusapiRegistry open(ClusapiOptions options, ClusapiNatives natives) {
        Cluster cluster;
        try {
            cluster = Cluster.open(natives.clusApi(), options.clusterName().orElse(null));
        } catch (ClusterApiException e) {
            throw new RegistryUnavailableException("cannot open cluster " + options.clusterName().orElse("(local)") + ": "
                    + e.getMessage(), e);
        }
        try (ClusterKey root = cluster.rootKey(ClusApiTypes.KEY_ALL_ACCESS)) {
            ClusterKey base = root.create(options.baseKeyPath(), ClusApiTypes.KEY_ALL_ACCESS);
            return new ClusapiRegistry(options, natives, cluster, base);
        } catch (RuntimeException e) {
            cluster.close();
            throw e instanceof ClusterApiException c ? unavailable("open the base key " + options.baseKeyPath(), c) : e;
        }
    }

    @Override
    public String uri() {
        return options.uri();
    }

    @Override
    public RegistryLimits limits() {
        return new RegistryLimits(RegistryValue.MAX_SIZE, options.maxBatchBytes(), options.maxBatchCommands());
    }

    // =============================================================================================
    // reads
    // =============================================================================================

    @Override
    public Optional<VersionedValue> getValue(RegistryPath key, String name) {
        checkOpen();
        RegistryPath.checkName(name, "value name");
        return call(() -> readValues(List.of(new ReadBatch.ValueRead(key, name))).get(0));
    }

    @Override
    public boolean keyExists(RegistryPath key) {
        checkOpen();
        return call(() -> openKey(key).map(k -> {
            k.close();
            return true;
        }).orElse(false));
    }

    @Override
    public List<String> subkeys(RegistryPath key) {
        checkOpen();
        return call(() -> consistent(() -> subkeysNow(key)).value.orElseThrow(() -> new NoSuchKeyException(key)));
    }

    @Override
    public Map<String, VersionedValue> values(RegistryPath key) {
        checkOpen();
        return call(() -> consistent(() -> valuesNow(key)).value.orElseThrow(() -> new NoSuchKeyException(key)));
    }

    @Override
    public ReadBatchResult read(ReadBatch batch) {
        checkOpen();
        return call(() -> {
            Consistent<List<Optional<?>>> r = consistent(() -> {
                List<ReadBatch.ValueRead> valueReads = new ArrayList<>();
                for (ReadBatch.Read read : batch.reads()) {
                    if (read instanceof ReadBatch.ValueRead v) {
                        valueReads.add(v);
                    }
                }
                List<Optional<VersionedValue>> values = valueReads.isEmpty() ? List.of() : readValues(valueReads);
                List<Optional<?>> answers = new ArrayList<>();
                int v = 0;
                for (ReadBatch.Read read : batch.reads()) {
                    if (read instanceof ReadBatch.ValueRead) {
                        answers.add(values.get(v++));
                    } else if (read instanceof ReadBatch.ValuesRead vr) {
                        answers.add(valuesNow(vr.key()));
                    } else if (read instanceof ReadBatch.SubkeysRead sr) {
                        answers.add(subkeysNow(sr.key()));
                    }
                }
                return answers;
            });
            return new ReadBatchResult(r.sequence, r.value);
        });
    }

    @Override
    public long currentSequence() {
        checkOpen();
        return call(this::sequenceNow);
    }

    private long sequenceNow() {
        Optional<RegValue> v = base.query(Reserved.SEQUENCE);
        if (v.isEmpty()) {
            return 0;
        }
        if (v.get().type() != ClusApiTypes.REG_QWORD || v.get().data().length != 8) {
            throw new RegistryCorruptedException("the commit sequence " + options.baseKeyPath() + "\\" + Reserved.SEQUENCE
                    + " is not an 8-byte REG_QWORD (type " + v.get().type() + "): written outside ReliableStore");
        }
        return Reserved.qword(v.get().data());
    }

    private record Consistent<T>(T value, long sequence) {
    }

    /**
     * Runs a multi-call read until no batch committed while it ran (the sequence before equals the
     * sequence after; every batch moves it, and one node applies batches in order). A key deleted
     * under the read (ERROR_KEY_DELETED on its handle) is read again too: the retry sees it missing.
     */
    private <T> Consistent<T> consistent(Supplier<T> read) {
        for (int attempt = 1; ; attempt++) {
            long before = sequenceNow();
            T value = null;
            boolean keyDeleted = false;
            try {
                value = read.get();
            } catch (ClusterApiException e) {
                if (e.code() != ClusApiTypes.ERROR_KEY_DELETED) {
                    throw e;
                }
                keyDeleted = true;
            }
            long after = sequenceNow();
            if (!keyDeleted && before == after) {
                return new Consistent<>(value, before);
            }
            if (attempt >= READ_ATTEMPTS) {
                throw new RegistryUnavailableException("no consistent read of " + options.uri() + " after " + attempt
                        + " attempts: batches keep committing", null);
            }
            backoff(attempt);
        }
    }

    private Optional<ClusterKey> openKey(RegistryPath key) {
        if (key.isRoot()) {
            return base.open("", ClusApiTypes.KEY_READ);
        }
        return base.open(NativeNames.keyPath(key), ClusApiTypes.KEY_READ);
    }

    private Optional<List<String>> subkeysNow(RegistryPath key) {
        Optional<ClusterKey> k = openKey(key);
        if (k.isEmpty()) {
            return Optional.empty();
        }
        try (ClusterKey opened = k.get()) {
            List<String> names = new ArrayList<>();
            for (String n : opened.subkeyNames()) {
                if (key.isRoot() && Reserved.isReserved(n)) {
                    continue; // the history key (FeedHistory)
                }
                names.add(NativeNames.decode(n, "a subkey of key \"" + key + "\" in " + options.uri()));
            }
            Collections.sort(names);
            return Optional.of(Collections.unmodifiableList(names));
        }
    }

    private Optional<Map<String, VersionedValue>> valuesNow(RegistryPath key) {
        Optional<ClusterKey> k = openKey(key);
        if (k.isEmpty()) {
            return Optional.empty();
        }
        try (ClusterKey opened = k.get()) {
            Map<String, RegValue> raw = opened.values();
            Map<String, VersionedValue> out = new TreeMap<>();
            for (Map.Entry<String, RegValue> e : raw.entrySet()) {
                if (Reserved.isReserved(e.getKey())) {
                    continue;
                }
                String name = NativeNames.decode(e.getKey(), "a value of key \"" + key + "\" in " + options.uri());
                RegValue rev = raw.get(Reserved.revisionOf(e.getKey()));
                out.put(name, versioned(key, name, e.getValue(), rev));
            }
            return Optional.of(Collections.unmodifiableMap(out));
        }
    }

    /** Value reads in one isolated read batch: (value, revision) per read. */
    private List<Optional<VersionedValue>> readValues(List<ReadBatch.ValueRead> reads) {
        List<String[]> natives = new ArrayList<>();
        for (ReadBatch.ValueRead r : reads) {
            String sub = r.key().isRoot() ? null : NativeNames.keyPath(r.key());
            String name = NativeNames.value(r.name());
            natives.add(new String[]{sub, name});
            natives.add(new String[]{sub, Reserved.revisionOf(name)});
        }
        List<NativeReadBatch.Answer> answers = NativeReadBatch.read(api, base, natives, true);
        List<Optional<VersionedValue>> out = new ArrayList<>(reads.size());
        for (int i = 0; i < reads.size(); i++) {
            NativeReadBatch.Answer value = answers.get(2 * i);
            NativeReadBatch.Answer rev = answers.get(2 * i + 1);
            if (!value.found()) {
                checkReadError(value);
                out.add(Optional.empty());
                continue;
            }
            if (!rev.found()) {
                checkReadError(rev);
            }
            out.add(Optional.of(versioned(reads.get(i).key(), reads.get(i).name(), new RegValue(value.options(), value.data()),
                    rev.found() ? new RegValue(rev.options(), rev.data()) : null)));
        }
        return out;
    }

    private static void checkReadError(NativeReadBatch.Answer a) {
        if (a.options() != ClusApiTypes.ERROR_FILE_NOT_FOUND) {
            throw new ClusterApiException("ClusterRegReadBatchReplyNextCommand", a.options(), "read of " + a.subkey() + "\\" + a.value());
        }
    }

    private VersionedValue versioned(RegistryPath key, String name, RegValue value, RegValue revision) {
        String where = "value \"" + name + "\" of key \"" + key + "\" in " + options.uri();
        if (revision == null || revision.type() != ClusApiTypes.REG_QWORD || revision.data().length != 8) {
            throw new RegistryCorruptedException(where + " has no valid revision (" + Reserved.revisionOf(NativeNames.encode(name))
                    + "): it was written outside ReliableStore");
        }
        long rev = Reserved.qword(revision.data());
        try {
            return new VersionedValue(RegistryValue.of(ValueType.fromWindowsCode(value.type()), value.data()), rev);
        } catch (RegistryArgumentException | IllegalArgumentException e) {
            throw new RegistryCorruptedException(where + " cannot be read: " + e.getMessage(), e);
        }
    }

    // =============================================================================================
    // writes
    // =============================================================================================

    @Override
    public CommitResult commit(WriteBatch batch) {
        checkOpen();
        checkLimits(batch);
        if (Thread.currentThread() == asyncThread) {
            return commitChecked(batch);
        }
        // through the same queue as commitAsync, so one thread's SYNC and ASYNC batches apply in call order
        CompletableFuture<CommitResult> f = commitAsync(batch);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the batch is in flight: its outcome must still be reported
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new RegistryException("commit to " + uri() + " failed", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public long awaitDurable() {
        // SYNC and ASYNC batches alike are shown only after the cluster database call a SYNC commit
        // returns from, so whatever was shown is as durable as a SYNC commit
        return currentSequence();
    }

    @Override
    public CompletableFuture<CommitResult> commitAsync(WriteBatch batch) {
        checkOpen();
        checkLimits(batch);
        CompletableFuture<CommitResult> f = new CompletableFuture<>();
        try {
            async.execute(() -> {
                try {
                    f.complete(commitChecked(batch));
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            f.completeExceptionally(new RegistryClosedException("clusapi registry " + uri()));
        }
        return f;
    }

    private void checkLimits(WriteBatch batch) {
        if (batch.size() > options.maxBatchCommands()) {
            throw new RegistryLimitException("write batch has " + batch.size() + " commands; the limit of " + uri() + " is "
                    + options.maxBatchCommands(), batch.size(), options.maxBatchCommands());
        }
        if (batch.encodedSize() > options.maxBatchBytes()) {
            throw new RegistryLimitException("write batch is " + batch.encodedSize() + " bytes; the limit of " + uri() + " is "
                    + options.maxBatchBytes() + " bytes", batch.encodedSize(), options.maxBatchBytes());
        }
        // every name's mapped form must fit Windows' limits: refused here, before anything is sent
        for (BatchCommand c : batch.commands()) {
            NativeNames.keyPath(c.key());
            String name = c.valueName();
            if (name != null) {
                NativeNames.value(name);
            }
        }
    }


    private CommitResult commitChecked(WriteBatch batch) {
        commitLock.lock();
        try {
            checkOpen();
            return call(() -> commitLocked(batch));
        } finally {
            commitLock.unlock();
        }
    }

    private CommitResult commitLocked(WriteBatch batch) {
        BatchPlanner.Probe probe = new BatchPlanner.Probe() {
            @Override
            public boolean keyExists(RegistryPath key) {
                return openKey(key).map(k -> {
                    k.close();
                    return true;
                }).orElse(false);
            }

            @Override
            public boolean valueExists(RegistryPath key, String name) {
                Optional<ClusterKey> k = openKey(key);
                if (k.isEmpty()) {
                    return false;
                }
                try (ClusterKey opened = k.get()) {
                    return opened.query(NativeNames.value(name)).isPresent();
                }
            }
        };
        for (int attempt = 1; ; attempt++) {
            FeedHistory.State state = feedState();
            long current = state.sequence();
            Plan plan;
            try {
                plan = BatchPlanner.plan(batch, current, probe);
            } catch (ClusterApiException e) {
                if (e.code() != ClusApiTypes.ERROR_KEY_DELETED) {
                    throw e;
                }
                // a key a probe had opened was deleted under it: the state moved since the plan began
                if (attempt >= options.commitAttempts()) {
                    throw gaveUp(attempt);
                }
                backoff(attempt);
                continue;
            }
            List<NativeCommand> commands = plan.commands();
            byte[] id = null;
            if (plan.changes_()) {
                // the batch's history record and the pruning of old ones commit atomically with it
                commands = new ArrayList<>(commands);
                commands.addAll(FeedHistory.commands(state, FeedHistory.encode(plan.sequence(), plan.changes()), clock.millis(),
                        options.feedBounds(), historyHeaders(state)));
                id = new byte[16];
                BATCH_IDS.nextBytes(id);
                commands.addAll(batchIdCommands(plan.sequence(), id));
            }
            NativeWriteBatch.Outcome outcome;
            try (NativeWriteBatch nb = new NativeWriteBatch(api, base)) {
                for (NativeCommand c : commands) {
                    nb.add(c.command(), c.name(), c.options(), c.data());
                }
                outcome = nb.commit();
            }
            if (outcome.succeeded()) {
                return new CommitResult(plan.sequence());
            }
            int index = outcome.failedCommandNumber() - options.failedCommandBase();
            NativeCommand failed = index >= 0 && index < commands.size() ? commands.get(index) : null;
            if (failed != null && failed.role() == Role.SEQUENCE_CHECK
                    && outcome.code() == ClusApiTypes.ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED) {
                // clusapi.dll reissues a batch whose answer was lost (MS-CMRP 3.2.4.6): the sequence that
                // moved may be this batch's own first execution, which planning again would apply twice
                if (id != null && appliedEarlier(plan.sequence(), id)) {
                    return new CommitResult(plan.sequence());
                }
                if (attempt >= options.commitAttempts()) {
                    throw gaveUp(attempt);
                }
                backoff(attempt);
                continue;
            }
            if (failed != null && (failed.role() == Role.FORCED_FALSE || (failed.role() == Role.CONDITION
                    && outcome.code() == ClusApiTypes.ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED))) {
                BatchCommand command = batch.commands().get(failed.userIndex());
                throw new ConditionFailedException(failed.userIndex(), command);
            }
            ClusterApiException e = new ClusterApiException("ClusterRegCloseBatch", outcome.code(),
                    "failedCommandNumber " + outcome.failedCommandNumber()
                            + (failed == null ? "" : " (" + failed.role() + " of command " + failed.userIndex() + ")"));
            if (e.isUnavailableError()) {
                // the server may have applied the batch before the connection, the node or the quorum went away
                throw new RegistryUnavailableException("commit to " + uri() + " failed: " + e.getMessage(), e, true);
            }
            throw e;
        }
    }

    /** Records the batch's id under its sequence and drops the id {@link #BATCH_IDS_KEPT} sequences older. */
    private static List<NativeCommand> batchIdCommands(long sequence, byte[] id) {
        List<NativeCommand> out = new ArrayList<>(3);
        out.add(new NativeCommand(ClusApiTypes.CLUSREG_CREATE_KEY, Reserved.BATCH_IDS, 0, null, -1, Role.HEADER));
        out.add(new NativeCommand(ClusApiTypes.CLUSREG_SET_VALUE, FeedHistory.headerName(sequence), ClusApiTypes.REG_BINARY, id, -1,
                Role.HEADER));
        if (sequence > BATCH_IDS_KEPT) {
            out.add(new NativeCommand(ClusApiTypes.CLUSREG_DELETE_VALUE, FeedHistory.headerName(sequence - BATCH_IDS_KEPT),
                    ClusApiTypes.REG_NONE, null, -1, Role.HEADER));
        }
        return out;
    }

    /**
     * Whether sequence {@code sequence} went to the batch with this id, after its sequence check
     * failed. Unknown once the id could have been dropped: then the outcome is unknown.
     */
    private boolean appliedEarlier(long sequence, byte[] id) {
        List<NativeReadBatch.Answer> a = NativeReadBatch.read(api, base, List.of(new String[]{null, Reserved.SEQUENCE},
                new String[]{Reserved.BATCH_IDS, FeedHistory.headerName(sequence)}), true);
        if (a.get(1).found()) {
            return java.util.Arrays.equals(a.get(1).data(), id);
        }
        checkReadError(a.get(1));
        long current = Math.max(0, qwordAnswer(a.get(0)));
        if (current - sequence < BATCH_IDS_KEPT) {
            return false; // had it applied, its id would still be there (older versions write none: their batch took it)
        }
        throw new RegistryUnavailableException("commit to " + uri() + " failed: its answer was lost and " + (current - sequence)
                + " batches committed since, so whether it took sequence " + sequence + " can no longer be told", null, true);
    }

    private RegistryUnavailableException gaveUp(int attempt) {
        return new RegistryUnavailableException("commit to " + uri() + " gave up after " + attempt
                + " attempts: other writers kept committing first (option commitAttempts)", null, false);
    }

    // =============================================================================================
    // change history (FeedHistory)
    // =============================================================================================

    /** The sequence and the history bookkeeping, from one consistent state. */
    private FeedHistory.State feedState() {
        List<NativeReadBatch.Answer> a = NativeReadBatch.read(api, base, List.of(new String[]{null, Reserved.SEQUENCE},
                new String[]{null, Reserved.FEED_AFTER}, new String[]{null, Reserved.FEED_BYTES}, new String[]{null, Reserved.FEED_OLDEST}), true);
        return new FeedHistory.State(Math.max(0, qwordAnswer(a.get(0))), qwordAnswer(a.get(1)), Math.max(0, qwordAnswer(a.get(2))),
                qwordAnswer(a.get(3)));
    }

    /** A reserved REG_QWORD of the base key, -1 when absent. */
    private long qwordAnswer(NativeReadBatch.Answer a) {
        if (!a.found()) {
            checkReadError(a);
            return -1;
        }
        if (a.options() != ClusApiTypes.REG_QWORD || a.data().length != 8) {
            throw new RegistryCorruptedException(options.baseKeyPath() + "\\" + a.value() + " is not an 8-byte REG_QWORD (type "
                    + a.options() + "): written outside ReliableStore");
        }
        return Reserved.qword(a.data());
    }

    /** Headers of kept history records, read a page at a time as pruning walks forward from the oldest. */
    private java.util.function.LongFunction<FeedHistory.Header> historyHeaders(FeedHistory.State state) {
        Map<Long, FeedHistory.Header> page = new java.util.HashMap<>();
        long[] loadedTo = {state.replayableAfter()};
        return seq -> {
            if (seq > loadedTo[0]) {
                page.clear();
                long to = Math.min(state.sequence(), seq + FeedHistory.HEADER_PAGE - 1);
                List<String[]> reads = new ArrayList<>();
                for (long s = seq; s <= to; s++) {
                    reads.add(new String[]{Reserved.HISTORY, FeedHistory.headerName(s)});
                }
                List<NativeReadBatch.Answer> answers = NativeReadBatch.read(api, base, reads, false);
                for (int i = 0; i < answers.size(); i++) {
                    NativeReadBatch.Answer a = answers.get(i);
                    if (a.found()) {
                        page.put(seq + i, FeedHistory.Header.decode(a.data(), seq + i));
                    } else {
                        checkReadError(a);
                    }
                }
                loadedTo[0] = to;
            }
            FeedHistory.Header h = page.get(seq);
            if (h == null) {
                LOG.warn("history record of batch {} of {} is missing; dropping it as if it were kept", seq, uri());
            }
            return h;
        };
    }

    /**
     * Drops the history the bounds no longer keep, in a batch of its own (commits do it as they go;
     * this is for when none come: tests, after the clock moved). Returns replayableAfter().
     */
    long pruneFeedHistory() {
        checkOpen();
        commitLock.lock();
        try {
            return call(() -> {
                for (int attempt = 1; ; attempt++) {
                    FeedHistory.State state = feedState();
                    List<NativeCommand> commands = FeedHistory.commands(state, null, clock.millis(), options.feedBounds(), historyHeaders(state));
                    if (commands.isEmpty() || state.sequence() == 0) {
                        return state.replayableAfter();
                    }
                    NativeWriteBatch.Outcome outcome;
                    try (NativeWriteBatch nb = new NativeWriteBatch(api, base)) {
                        // the sequence check: the headers read are those of the state the batch runs on
                        nb.add(ClusApiTypes.CLUSREG_CONDITION_IS_EQUAL, Reserved.SEQUENCE, ClusApiTypes.REG_QWORD, Reserved.qword(state.sequence()));
                        for (NativeCommand c : commands) {
                            nb.add(c.command(), c.name(), c.options(), c.data());
                        }
                        outcome = nb.commit();
                    }
                    if (outcome.succeeded()) {
                        return feedState().replayableAfter();
                    }
                    if (outcome.code() != ClusApiTypes.ERROR_CLUSTER_DATABASE_UPDATE_CONDITION_FAILED || attempt >= options.commitAttempts()) {
                        throw new ClusterApiException("ClusterRegCloseBatch", outcome.code(), "pruning the change history, failedCommandNumber "
                                + outcome.failedCommandNumber());
                    }
                    backoff(attempt);
                }
            });
        } finally {
            commitLock.unlock();
        }
    }

    /** Tests only: the clock commit times and the retention cut-off are read from. */
    void useClock(Clock c) {
        clock = java.util.Objects.requireNonNull(c, "clock");
    }

    FeedHistory.State feedStateForWatch() {
        return call(this::feedState);
    }

    /**
     * The whole batch {@code sequence} from its history record; empty when the record is not there
     * (dropped, also while being read, or committed by a version without history).
     */
    Optional<ChangeBatch> historyRecord(long sequence) {
        return call(() -> historyRecordNow(sequence));
    }

    private Optional<ChangeBatch> historyRecordNow(long sequence) {
        Optional<ClusterKey> k = base.open(Reserved.HISTORY, ClusApiTypes.KEY_READ);
        if (k.isEmpty()) {
            return Optional.empty();
        }
        try (ClusterKey history = k.get()) {
            Optional<RegValue> header = history.query(FeedHistory.headerName(sequence));
            if (header.isEmpty()) {
                return Optional.empty();
            }
            FeedHistory.Header h = FeedHistory.Header.decode(header.get().data(), sequence);
            if (h.bytes() > Integer.MAX_VALUE - 8) {
                throw new RegistryCorruptedException("the history record of batch " + sequence + " claims " + h.bytes() + " bytes");
            }
            java.io.ByteArrayOutputStream record = new java.io.ByteArrayOutputStream((int) h.bytes());
            for (int i = 0; i < h.chunks(); i++) {
                Optional<RegValue> chunk = history.query(FeedHistory.chunkName(sequence, i));
                if (chunk.isEmpty()) {
                    return Optional.empty(); // dropped while being read
                }
                record.writeBytes(chunk.get().data());
            }
            return Optional.of(FeedHistory.decode(record.toByteArray(), sequence));
        }
    }

    String feedBoundsText() {
        return options.feedBoundsText();
    }

    private static void backoff(int attempt) {
        if (attempt > 3) {
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(50_000, 200_000L * Math.min(attempt, 50)));
        } else {
            Thread.onSpinWait();
        }
    }

    // =============================================================================================
    // change feed
    // =============================================================================================

    @Override
    public Watch watch(RegistryPath subtree, ChangeListener listener) {
        checkOpen();
        java.util.Objects.requireNonNull(subtree, "subtree");
        java.util.Objects.requireNonNull(listener, "listener");
        return opened(call(() -> new ClusapiWatch(this, subtree, listener)));
    }

    @Override
    public Watch watch(RegistryPath subtree, long afterSequence, ChangeListener listener) {
        checkOpen();
        java.util.Objects.requireNonNull(subtree, "subtree");
        java.util.Objects.requireNonNull(listener, "listener");
        if (afterSequence < 0) { // ClusapiWatch takes a negative checkpoint for a live watch
            ReplayCheckpoints.requireReached(afterSequence, currentSequence(), uri());
        }
        return opened(call(() -> new ClusapiWatch(this, subtree, afterSequence, listener)));
    }

    /** Every read is answered by the cluster database after the commits it acknowledged: nothing to wait for, once open. */
    @Override
    public void readBarrier() {
        checkOpen();
    }

    @Override
    public long replayableAfter() {
        checkOpen();
        return call(() -> feedState().replayableAfter());
    }

    /** For watches: a new batch notification port on the base key. */
    BatchNotificationPort openBatchPort() {
        return call(() -> new BatchNotificationPort(api, base, this::wakeBatchPorts));
    }

    /**
     * Ends the ClusterRegGetBatchNotification calls waiting on the base key's ports (every port on
     * it is notified of a batch; one whose call has not started yet keeps the notification for it).
     * The batch deletes a value that never exists: it changes nothing, and watches skip it. Not
     * through {@link #call}: close() closes watches after it marked the registry closed.
     */
    void wakeBatchPorts() {
        handles.readLock().lock();
        try (NativeWriteBatch nb = new NativeWriteBatch(api, base)) {
            nb.add(ClusApiTypes.CLUSREG_DELETE_VALUE, Reserved.WAKE, ClusApiTypes.REG_NONE, null);
            NativeWriteBatch.Outcome outcome = nb.commit();
            if (!outcome.succeeded()) {
                throw new ClusterApiException("ClusterRegCloseBatch", outcome.code(), "waking the batch notification ports of " + uri());
            }
        } finally {
            handles.readLock().unlock();
        }
    }

    long sequenceForWatch() {
        return call(this::sequenceNow);
    }

    void forget(AutoCloseable c) {
        open.remove(c);
    }

    // =============================================================================================
    // administrator-initiated failover and drain: group move, node drain (PauseClusterNodeEx) and resume
    // =============================================================================================

    /**
     * An administrator's move, recorded at the base key so every registry on it can tell the primary
     * changes it causes from the cluster's own: away from {@code from}, to {@code target} (a failover)
     * or to any other node ({@code target} null: a drain).
     */
    record AdminMove(String id, String from, String target) {

        boolean startsFrom(String oldPrimary) {
            return from.isEmpty() ? oldPrimary == null : from.equalsIgnoreCase(String.valueOf(oldPrimary));
        }

        boolean completedBy(String newPrimary) {
            return newPrimary != null && (target == null ? !newPrimary.equalsIgnoreCase(from) : newPrimary.equalsIgnoreCase(target));
        }

        byte[] encode() {
            return String.join("\n", id, from, target == null ? "" : target).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }

        static AdminMove decode(byte[] data) {
            String[] f = new String(data, java.nio.charset.StandardCharsets.UTF_8).split("\n", -1);
            return f.length == 3 ? new AdminMove(f[0], f[1], f[2].isEmpty() ? null : f[2]) : null;
        }
    }

    private AdminMove recordAdminMove(String from, String target) {
        AdminMove move = new AdminMove(Long.toHexString(ThreadLocalRandom.current().nextLong()), from, target);
        base.setValue(Reserved.ADMIN_MOVE, new RegValue(ClusApiTypes.REG_BINARY, move.encode()));
        return move;
    }

    /**
     * Starts an administrator's move recorded as {@code move}; a refused start takes the record back
     * (unless another move replaced it), or a later move the cluster makes by itself — the node
     * crashing, say — would be reported as this one.
     */
    private void startAdminMove(AdminMove move, String function, java.util.function.IntSupplier start, String node) {
        try {
            // the call inside: opening the node or group fails (an unknown node) after the record was written, too
            started(function, start.getAsInt(), node);
        } catch (RuntimeException refused) {
            try {
                AdminMove now = lastAdminMove();
                if (now != null && now.id().equals(move.id())) {
                    base.deleteValue(Reserved.ADMIN_MOVE);
                }
            } catch (RuntimeException e) {
                refused.addSuppressed(e);
            }
            throw refused;
        }
    }

    /** The latest administrator's move recorded by any registry on this base key, or null. */
    AdminMove lastAdminMove() {
        return call(() -> base.query(Reserved.ADMIN_MOVE).map(v -> AdminMove.decode(v.data())).orElse(null));
    }

    @Override
    public String failover(Optional<String> target) {
        checkOpen();
        java.util.Objects.requireNonNull(target, "target");
        return call(() -> {
            ClusterStatus s = statusNow();
            String to = target.orElseGet(() -> s.nodes().stream()
                    .filter(n -> n.state() == NodeState.UP && !s.primary().map(n.name()::equalsIgnoreCase).orElse(false)).map(NodeInfo::name)
                    .findFirst().orElseThrow(() -> refused(NodeOperationRefusedException.Reason.NO_TARGET, null,
                            "no node can take group " + options.group() + " over from " + s.primary().orElse("(no owner)") + ": nodes " + s.nodes())));
            NodeState state = s.nodes().stream().filter(n -> n.name().equalsIgnoreCase(to)).map(NodeInfo::state).findFirst()
                    .orElseThrow(() -> refused(NodeOperationRefusedException.Reason.UNKNOWN_NODE, to, "node " + to + " is not a node of cluster "
                            + uri() + " (nodes " + s.nodes() + ")"));
            // a node is Up only once it has joined, and joining brings its copy of the cluster database up to date:
            // Up is all clusapi tells of health and of being caught up (the per-node PaxosTag is undocumented)
            if (state == NodeState.PAUSED) {
                throw refused(NodeOperationRefusedException.Reason.DRAINED, to, "node " + to + " is PAUSED (drained); resume it first");
            }
            if (state != NodeState.UP) {
                throw refused(NodeOperationRefusedException.Reason.NOT_UP, to, "node " + to + " is " + state + ", not UP");
            }
            if (s.primary().map(to::equalsIgnoreCase).orElse(false)) {
                throw refused(NodeOperationRefusedException.Reason.ALREADY_PRIMARY, to, "node " + to + " owns group " + options.group() + " already");
            }
            AdminMove move = recordAdminMove(s.primary().orElse(""), to);
            startAdminMove(move, "MoveClusterGroup", () -> cluster.moveGroup(options.group(), to), to);
            awaitOwner(g -> g.owner().map(to::equalsIgnoreCase).orElse(false) && g.state() == ClusApiTypes.ClusterGroupOnline, to,
                    "group " + options.group() + " is not online on " + to);
            return to;
        });
    }

    @Override
    public void drain(String node) {
        onNode(node, () -> {
            AdminMove move = recordAdminMove(node, null);
            startAdminMove(move, "PauseClusterNodeEx", () -> cluster.drainNode(node), node);
            awaitOwner(g -> g.owner().map(o -> !o.equalsIgnoreCase(node)).orElse(false) && g.state() != ClusApiTypes.ClusterGroupPending, node,
                    "group " + options.group() + " has not left " + node);
        });
    }

    @Override
    public void resume(String node) {
        onNode(node, () -> {
            int rc = cluster.resumeNode(node);
            if (rc != ClusApiTypes.ERROR_SUCCESS) {
                throw refusal("ResumeClusterNodeEx", rc, node);
            }
        });
    }

    /** Runs calls on one node, an unknown node (OpenClusterNode failing) reported as such. */
    private void onNode(String node, Runnable calls) {
        checkOpen();
        RegistryPath.checkName(node, "node name");
        call(() -> {
            try {
                calls.run();
            } catch (ClusterApiException e) {
                throw refusal(e.function(), e.code(), node);
            }
            return null;
        });
    }

    private void started(String function, int rc, String node) {
        if (rc != ClusApiTypes.ERROR_SUCCESS && rc != ClusApiTypes.ERROR_IO_PENDING) {
            throw refusal(function, rc, node);
        }
    }

    /** The refusal a move, drain or resume return code stands for (clusapi-reference §6, §8.3). */
    private RegistryException refusal(String function, int rc, String node) {
        ClusterApiException cause = new ClusterApiException(function, rc, node);
        NodeOperationRefusedException.Reason reason = switch (rc) {
            case ClusApiTypes.ERROR_HOST_NODE_NOT_AVAILABLE -> NodeOperationRefusedException.Reason.NOT_UP;
            case ClusApiTypes.ERROR_CLUSTER_NODE_DOWN -> NodeOperationRefusedException.Reason.NO_TARGET;
            case ClusApiTypes.ERROR_CLUSTER_NODE_DRAIN_IN_PROGRESS, ClusApiTypes.ERROR_CLUSTER_GROUP_MOVING -> NodeOperationRefusedException.Reason.IN_PROGRESS;
            case ClusApiTypes.ERROR_CLUSTER_NODE_NOT_PAUSED -> NodeOperationRefusedException.Reason.NOT_DRAINED;
            case ClusApiTypes.ERROR_CLUSTER_NODE_NOT_FOUND -> NodeOperationRefusedException.Reason.UNKNOWN_NODE;
            default -> null;
        };
        if (reason == null) {
            return cause;
        }
        NodeOperationRefusedException e = refused(reason, node, cause.getMessage() + " (" + uri() + ")");
        e.initCause(cause);
        return e;
    }

    /** Polls the group until {@code done} (the DLL only says a move started), bounded by failoverTimeout. */
    private void awaitOwner(java.util.function.Predicate<Cluster.GroupState> done, String node, String notYet) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.failoverTimeoutMs());
        Cluster.GroupState g = cluster.groupState(options.group());
        while (!done.test(g)) {
            if (System.nanoTime() - deadline > 0) {
                throw refused(NodeOperationRefusedException.Reason.TIMED_OUT, node, notYet + " after " + options.failoverTimeoutMs()
                        + " ms (option failoverTimeout): group state " + g.state() + ", owner " + g.owner().orElse("(none)"));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            g = cluster.groupState(options.group());
        }
    }

    private static NodeOperationRefusedException refused(NodeOperationRefusedException.Reason reason, String node, String message) {
        return new NodeOperationRefusedException(reason, node, message);
    }

    // =============================================================================================
    // membership and health
    // =============================================================================================

    @Override
    public ClusterStatus status() {
        checkOpen();
        return call(this::statusNow);
    }

    ClusterStatus statusNow() {
        List<NodeInfo> nodes = new ArrayList<>();
        for (String n : cluster.enumerate(ClusApiTypes.CLUSTER_ENUM_NODE)) {
            nodes.add(new NodeInfo(n, nodeState(cluster.nodeState(n))));
        }
        Cluster.GroupState g = cluster.groupState(options.group());
        boolean active = g.state() == ClusApiTypes.ClusterGroupOnline || g.state() == ClusApiTypes.ClusterGroupPartialOnline
                || g.state() == ClusApiTypes.ClusterGroupPending;
        return new ClusterStatus("clusapi", options.localNode(), active ? g.owner() : Optional.empty(), nodes);
    }

    static NodeState nodeState(int state) {
        return switch (state) {
            case ClusApiTypes.ClusterNodeUp -> NodeState.UP;
            case ClusApiTypes.ClusterNodeDown -> NodeState.DOWN;
            case ClusApiTypes.ClusterNodePaused -> NodeState.PAUSED;
            case ClusApiTypes.ClusterNodeJoining -> NodeState.JOINING;
            default -> NodeState.UNKNOWN;
        };
    }

    @Override
    public Subscription addMembershipListener(MembershipListener listener) {
        checkOpen();
        java.util.Objects.requireNonNull(listener, "listener");
        return opened(call(() -> new MembershipMonitor(this, cluster, natives.waiter(), listener)));
    }

    /**
     * Registers a watch or monitor for {@link #close()} to close. One made while close() ran may be
     * missing from the set close() copied: close() marks the registry closed before copying it, so
     * such a one sees the mark here and is closed instead of handed out over a closed registry.
     */
    private <T extends AutoCloseable> T opened(T made) {
        open.add(made);
        if (closed && open.remove(made)) {
            try {
                made.close();
            } catch (Exception e) {
                LOG.warn("closing {} of {} failed", made, uri(), e);
            }
            throw new RegistryClosedException("clusapi registry " + uri());
        }
        return made;
    }

    @Override
    public HealthReport checkHealth() {
        checkOpen();
        long t0 = System.nanoTime();
        try {
            long seq = call(this::sequenceNow);
            ClusterStatus s = call(this::statusNow);
            Duration rtt = Duration.ofNanos(System.nanoTime() - t0);
            boolean up = s.liveNodes() > 0;
            String nodes = s.liveNodes() + " of " + s.nodes().size() + " nodes up; primary " + s.primary().orElse("(none)");
            // a failure's detail holds no sequence: the same failure must read the same on every check (reported once)
            return new HealthReport(up, up ? "read commit sequence " + seq + " of " + uri() + "; " + nodes : uri() + ": " + nodes, rtt);
        } catch (RuntimeException e) {
            return new HealthReport(false, "probe of " + uri() + " failed: " + e.getMessage(), Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** Health faults of this registry are namespaced: {@code <base key>/<id>} (ids cannot contain '/'). */
    private String faultPrefix() {
        return options.baseKeyPath() + Reserved.FAULT_SEPARATOR;
    }

    @Override
    public List<HealthFault> healthFaults() {
        checkOpen();
        return call(() -> {
            List<HealthFault> out = new ArrayList<>();
            for (HealthFaults.NativeFault f : faults.list(cluster)) {
                if (f.id().startsWith(faultPrefix())) {
                    out.add(new HealthFault(f.id().substring(faultPrefix().length()), f.errorType(), f.errorCode(),
                            f.description(), f.provider(), f.flags()));
                }
            }
            return List.copyOf(out);
        });
    }

    @Override
    public void addHealthFault(HealthFault fault) {
        checkOpen();
        java.util.Objects.requireNonNull(fault, "fault");
        call(() -> {
            String id = faultPrefix() + fault.id();
            if (faults.list(cluster).stream().anyMatch(f -> f.id().equals(id))) {
                faults.remove(cluster, id);
            }
            faults.add(cluster, new HealthFaults.NativeFault(id, fault.errorType(), fault.errorCode(), fault.description(), fault.provider(),
                    fault.flags()));
            return null;
        });
    }

    @Override
    public boolean removeHealthFault(String id) {
        checkOpen();
        RegistryPath.checkName(id, "health fault id");
        return call(() -> {
            String full = faultPrefix() + id;
            if (faults.list(cluster).stream().noneMatch(f -> f.id().equals(full))) {
                return false;
            }
            faults.remove(cluster, full);
            return true;
        });
    }

    // =============================================================================================
    // lifecycle and errors
    // =============================================================================================

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (AutoCloseable c : List.copyOf(open)) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} of {} failed", c, uri(), e);
            }
        }
        async.shutdown();
        boolean exclusive;
        try {
            exclusive = handles.writeLock().tryLock(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exclusive = false;
        }
        if (!exclusive) {
            // a call that does not return (an RPC to a cluster that stopped answering) still holds them
            LOG.warn("closing {}: a call still used its cluster handles after {}; they are left open rather than freed under it",
                    uri(), CLOSE_WAIT);
            return;
        }
        try {
            base.close();
        } catch (RuntimeException e) {
            LOG.warn("closing the base key of {} failed", uri(), e);
        } finally {
            try {
                cluster.close();
            } finally {
                handles.writeLock().unlock();
            }
        }
    }

    boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new RegistryClosedException("clusapi registry " + uri());
        }
    }

    /** Runs a native call sequence, mapping connection errors to {@link RegistryUnavailableException}. */
    private <T> T call(Supplier<T> s) {
        handles.readLock().lock();
        try {
            if (closed) {
                throw new RegistryClosedException("clusapi registry " + uri());
            }
            return s.get();
        } catch (ClusterApiException e) {
            if (closed) {
                throw new RegistryClosedException("clusapi registry " + uri());
            }
            if (e.isUnavailableError()) {
                throw unavailable("reach " + uri(), e);
            }
            throw e;
        } catch (IllegalStateException e) {
            if (closed) {
                throw new RegistryClosedException("clusapi registry " + uri());
            }
            throw e;
        } finally {
            handles.readLock().unlock();
        }
    }

    private static RegistryException unavailable(String what, ClusterApiException e) {
        return new RegistryUnavailableException("cannot " + what + ": " + e.getMessage(), e);
    }

    ClusapiOptions options() {
        return options;
    }

}
