package dev.reliablestore.tx;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/** The local coordinator: ids, timeouts, the coordinator log and recovery. */
final class LocalTransactionFactory implements TransactionFactory {

    private static final Logger LOG = LoggerFactory.getLogger(LocalTransactionFactory.class);

    /** The XA format id of transactions created here ("RSTX"). */
    static final int FORMAT_ID = 0x52535458;
    static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,32}");
    static final Duration MAX_TIMEOUT = Duration.ofHours(24);
    private static final int RANDOM_BYTES = 16;

    private final String nodeName;
    private final byte[] nodePrefix;
    /** {@link CoordinatorLog#coordinatorId()}, or a random one for a factory without a log (it prepares nothing). */
    private final byte[] coordinatorId;
    private final Duration defaultTimeout;
    private final CoordinatorLog log;
    private final ThreadLocal<LocalTransaction> current = new ThreadLocal<>();
    /** Global tokens of transactions begun here and not yet ended: recovery leaves them alone. */
    private final Set<String> live = ConcurrentHashMap.newKeySet();
    private final SecureRandom random = new SecureRandom();
    private final ScheduledExecutorService timer;
    private volatile boolean closed;
    /** Guarded by {@code live}. */
    private boolean logReleased;
    /** Calls of {@link #recover} running now; guarded by {@code live}. */
    private int recovering;

    /** {@code timers}: makes the timeout timer (one thread) from its thread factory; tests pass one that plays a race. */
    private LocalTransactionFactory(BuilderImpl b, Function<ThreadFactory, ScheduledThreadPoolExecutor> timers) {
        this.nodeName = b.nodeName;
        this.nodePrefix = (b.nodeName + "/").getBytes(StandardCharsets.US_ASCII);
        this.defaultTimeout = b.defaultTimeout;
        try {
            this.log = b.logDirectory == null ? null : new CoordinatorLog(b.logDirectory, b.nodeName, this::isOurNode,
                    this::carriesIdentity);
        } catch (IOException e) {
            throw new ConfigurationException("cannot use coordinator log directory " + b.logDirectory + ": " + e, e);
        }
        this.coordinatorId = log != null ? log.coordinatorId() : randomBytes(CoordinatorLog.ID_BYTES);
        ScheduledThreadPoolExecutor timeouts = timers.apply(r -> {
            Thread t = new Thread(r, "reliablestore-tx-timeout-" + nodeName);
            t.setDaemon(true);
            return t;
        });
        // a transaction's timeout task holds the transaction and its buffered writes: cancelled when it ends,
        // it must leave the queue then, not when its delay (up to 24 h) has passed
        timeouts.setRemoveOnCancelPolicy(true);
        this.timer = timeouts;
    }

    // ---- TransactionFactory -------------------------------------------------------------------

    @Override
    public Transaction begin() {
        return begin(defaultTimeout);
    }

    @Override
    public Transaction begin(Duration timeout) {
        checkTimeout(timeout);
        byte[] gtrid = ByteBuffer.allocate(nodePrefix.length + CoordinatorLog.ID_BYTES + RANDOM_BYTES)
                .put(nodePrefix).put(coordinatorId).put(randomBytes(RANDOM_BYTES)).array();
        TransactionId global = TransactionId.of(FORMAT_ID, gtrid, new byte[0]);
        LocalTransaction tx = new LocalTransaction(this, global, nodeName, timeout);
        synchronized (live) { // against close(): the log's lock is released only once nothing is live
            checkOpen();
            live.add(global.toToken());
        }
        tx.scheduleTimeout();
        return tx;
    }

    @Override
    public Optional<Transaction> current() {
        return Optional.ofNullable(current.get());
    }

    @Override
    public <R, E extends Exception> R execute(TransactionalWork<R, E> work) throws E {
        Objects.requireNonNull(work, "work");
        LocalTransaction outer = current.get();
        if (outer != null) {
            try {
                return work.run(outer);
            } catch (Exception | Error failure) {
                outer.setRollbackOnly();
                throw failure;
            }
        }
        LocalTransaction tx = (LocalTransaction) begin();
        current.set(tx);
        try {
            R result = work.run(tx);
            tx.commit();
            return result;
        } catch (Exception | Error failure) {
            if (!tx.status().isFinal()) {
                try {
                    tx.rollback();
                } catch (RuntimeException rollbackFailure) {
                    failure.addSuppressed(rollbackFailure);
                }
            }
            throw failure;
        } finally {
            current.remove();
        }
    }

    @Override
    public <R, E extends Exception> R execute(RetryPolicy retry, TransactionalWork<R, E> work) throws E {
        Objects.requireNonNull(retry, "retry");
        LocalTransaction outer = current.get();
        if (outer != null) {
            throw Failures.state("cannot retry work inside the enclosing transaction " + outer.id()
                    + ": only the whole enclosing transaction can be retried", outer.status());
        }
        return retry.execute(() -> execute(work));
    }

    @Override
    public RecoveryResult recover(Collection<? extends TransactionalResource> resources) {
        Objects.requireNonNull(resources, "resources");
        synchronized (live) { // against close(): a recovery still running keeps the log's lock, as a transaction does
            checkOpen(); // once closed, another factory of this node may own the log
            recovering++;
        }
        try {
            return recoverWhileHoldingTheLog(resources);
        } finally {
            synchronized (live) {
                recovering--;
            }
            releaseLogWhenIdle();
        }
    }

    /**
     * {@link #recover}, counted as running so that the node's lock is not released under it: a new
     * factory of this node would prepare branches this one presumes aborted.
     */
    private RecoveryResult recoverWhileHoldingTheLog(Collection<? extends TransactionalResource> resources) {
        Map<String, CoordinatorLog.Decision> decisions = new LinkedHashMap<>();
        if (log != null) {
            try {
                for (CoordinatorLog.Decision d : log.readAll()) {
                    // another node's coordinator may share the directory; a decision of another identity of this
                    // node is not ours either (its branches are skipped below, so it must not be forgotten)
                    if (isOurs(d.transactionToken())) {
                        decisions.put(d.transactionToken(), d);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read coordinator log " + log.directory(), e);
            }
        }
        List<TransactionId> committed = new ArrayList<>();
        List<TransactionId> rolledBack = new ArrayList<>();
        Map<TransactionId, String> failed = new LinkedHashMap<>();
        Set<String> stillReported = new HashSet<>();
        Set<String> supplied = new HashSet<>();
        Map<String, String> unreachable = new LinkedHashMap<>();
        Set<String> durable = new HashSet<>();
        for (TransactionalResource resource : resources) {
            List<TransactionId> inDoubt;
            try {
                inDoubt = resource.recover();
            } catch (RuntimeException e) {
                // the others are still finished; this one's decisions stay (it is not counted as supplied)
                unreachable.put(resource.resourceManagerId(), e.toString());
                continue;
            }
            supplied.add(resource.resourceManagerId());
            for (TransactionId branch : inDoubt) {
                if (!isOurs(branch)) {
                    continue;
                }
                String token = globalToken(branch);
                if (live.contains(token)) {
                    stillReported.add(token); // running here: its decision stays until a scan finds its branches done
                    continue;
                }
                CoordinatorLog.Decision decision = decisions.get(token);
                if (decision == null && log != null) {
                    // decided after the log was read above: a transaction writes its decision before it
                    // leaves `live`, so a decision of one that is no longer live is on disk by now
                    try {
                        decision = log.read(token);
                    } catch (IOException e) {
                        stillReported.add(token);
                        failed.put(branch, "cannot read its decision from the coordinator log " + log.directory() + ": " + e
                                + "; left prepared");
                        continue;
                    }
                    if (decision != null) {
                        decisions.put(token, decision);
                    }
                }
                try {
                    if (decision != null && decision.participants() == null) {
                        stillReported.add(token);
                        failed.put(branch, decision.problem() + "; left prepared");
                    } else if (decision != null) {
                        String notDurable = makeDurable(token, decisions.keySet(), durable);
                        if (notDurable != null) {
                            stillReported.add(token);
                            failed.put(branch, notDurable);
                        } else {
                            resource.commitPrepared(branch);
                            committed.add(branch);
                        }
                    } else {
                        resource.rollbackPrepared(branch);
                        rolledBack.add(branch);
                    }
                } catch (UnknownTransactionException gone) {
                    // completed meanwhile by someone else: nothing left to do for this branch
                } catch (RuntimeException e) {
                    stillReported.add(token);
                    failed.put(branch, e.toString());
                }
            }
        }
        List<String> pending = new ArrayList<>();
        for (CoordinatorLog.Decision d : decisions.values()) {
            boolean allSupplied = d.participants() != null
                    && d.participants().stream().allMatch(p -> supplied.contains(p.resourceManagerId()));
            if (allSupplied && !stillReported.contains(d.transactionToken()) && !live.contains(d.transactionToken())) {
                forget(d.transactionToken());
            } else {
                pending.add(d.transactionToken());
            }
        }
        RecoveryResult result = new RecoveryResult(committed, rolledBack, failed, pending, unreachable);
        if (!committed.isEmpty() || !rolledBack.isEmpty() || !failed.isEmpty() || !unreachable.isEmpty()) {
            LOG.info("recovery of node {}: {}", nodeName, result);
        }
        return result;
    }

    /**
     * Syncs the log directory unless that was done after {@code token}'s decision was read, so that
     * no branch is committed on a decision a crash could still take (a rename whose directory sync
     * failed): recovery after the crash would presume abort for the others. Returns why the decision
     * is not durable, or null; on success every decision read so far ({@code read}) is durable.
     */
    private String makeDurable(String token, Set<String> read, Set<String> durable) {
        if (durable.contains(token)) {
            return null;
        }
        try {
            log.sync();
        } catch (IOException | RuntimeException e) {
            return "its commit decision in the coordinator log " + log.directory() + " could not be made durable (" + e
                    + "); left prepared: a later recover() commits it once the directory can be synced";
        }
        durable.addAll(read);
        return null;
    }

    @Override
    public void close() {
        synchronized (live) {
            if (closed) {
                return;
            }
            closed = true;
        }
        timer.shutdownNow();
        try {
            timer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        releaseLogWhenIdle();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("transaction factory of node " + nodeName + " is closed");
        }
    }

    /**
     * After close, once no transaction and no recovery of this factory is running, lets another
     * coordinator of this node open the log: a transaction still running may yet write its decision
     * there, and a recovery still running would presume abort for the new one's prepared branches.
     */
    private void releaseLogWhenIdle() {
        synchronized (live) {
            if (log == null || logReleased || !closed || !live.isEmpty() || recovering > 0) {
                return;
            }
            logReleased = true;
        }
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("could not release the lock of node {} in the coordinator log {}: {}", nodeName, log.directory(), e.toString());
        }
    }

    // ---- used by LocalTransaction -----------------------------------------------------------

    /** The task, or null once close() has stopped the timer (then nothing runs at the deadline). */
    ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        if (timer.isShutdown()) {
            return null;
        }
        try {
            return timer.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopped) {
            // close() stopped the timer after the check above: as if it had before. Thrown out of begin(), it
            // would leave the transaction live with nothing to end it, and the node's lock held for ever
            return null;
        }
    }

    CoordinatorLog log() {
        return log;
    }

    /** Tests: the timeout tasks queued (those of transactions that have not ended). */
    int pendingTimeouts() {
        return ((ScheduledThreadPoolExecutor) timer).getQueue().size();
    }

    void ended(TransactionId global) {
        live.remove(global.toToken());
        if (closed) {
            releaseLogWhenIdle();
        }
    }

    /** Removes a decision once every branch is finished; a failure only leaves work for recovery. */
    void forget(String token) {
        try {
            log.remove(token);
        } catch (IOException e) {
            LOG.warn("could not remove the finished decision {} from the coordinator log {}: {}", token, log.directory(), e.toString());
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    /**
     * Whether a resource's branch (or a logged transaction) is this coordinator's to finish: its node
     * name and its coordinator id. The node name alone is not enough: two processes given the same
     * name (the default {@code local}, a copied configuration) with logs of their own would each
     * presume abort for the other's prepared branches. Ids created before coordinators had an
     * identity (no id part) are matched by node name, as they were then, but only by a coordinator
     * with a log: one without never prepares, and has no decisions to tell committed from aborted.
     */
    private boolean isOurs(TransactionId branch) {
        if (!isOurNode(branch)) {
            return false;
        }
        byte[] g = branch.globalId();
        if (g.length == nodePrefix.length + RANDOM_BYTES) {
            return log != null;
        }
        return Arrays.equals(g, nodePrefix.length, nodePrefix.length + coordinatorId.length, coordinatorId, 0, coordinatorId.length);
    }

    private boolean isOurs(String transactionToken) {
        TransactionId id = parsedAndOurNode(transactionToken);
        return id != null && isOurs(id);
    }

    /** Whether a transaction id was created by a coordinator of this node name (with or without an identity). */
    private boolean isOurNode(TransactionId branch) {
        if (branch.formatId() != FORMAT_ID) {
            return false;
        }
        byte[] g = branch.globalId();
        return (g.length == nodePrefix.length + RANDOM_BYTES || g.length == nodePrefix.length + CoordinatorLog.ID_BYTES + RANDOM_BYTES)
                && Arrays.equals(g, 0, nodePrefix.length, nodePrefix, 0, nodePrefix.length);
    }

    /**
     * Whether {@code transactionToken} (a global id's token) is a transaction of this node name: in
     * its own log directory that is this coordinator, which holds the node's lock there.
     */
    private boolean isOurNode(String transactionToken) {
        return parsedAndOurNode(transactionToken) != null;
    }

    /** Whether {@code transactionToken} is a transaction of this node name made under some coordinator identity. */
    private boolean carriesIdentity(String transactionToken) {
        TransactionId id = parsedAndOurNode(transactionToken);
        return id != null && id.globalId().length == nodePrefix.length + CoordinatorLog.ID_BYTES + RANDOM_BYTES;
    }

    private TransactionId parsedAndOurNode(String transactionToken) {
        try {
            TransactionId id = TransactionId.fromToken(transactionToken);
            return isOurNode(id) ? id : null;
        } catch (IllegalArgumentException notAToken) {
            return null;
        }
    }

    static String globalToken(TransactionId branch) {
        return TransactionId.of(branch.formatId(), branch.globalId(), new byte[0]).toToken();
    }

    private byte[] randomBytes(int length) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        return b;
    }

    static void checkTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("transaction timeout must be 1 ms .. 24 h, got " + timeout);
        }
    }

    static final class BuilderImpl implements Builder {
        private String nodeName = "local";
        private Duration defaultTimeout = Duration.ofSeconds(60);
        private Path logDirectory;

        @Override
        public Builder nodeName(String name) {
            Objects.requireNonNull(name, "nodeName");
            if (!NODE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("node name must be 1..32 characters of [A-Za-z0-9._-], got \"" + name + "\"");
            }
            this.nodeName = name;
            return this;
        }

        @Override
        public Builder defaultTimeout(Duration timeout) {
            checkTimeout(timeout);
            this.defaultTimeout = timeout;
            return this;
        }

        @Override
        public Builder logDirectory(Path directory) {
            this.logDirectory = Objects.requireNonNull(directory, "logDirectory");
            return this;
        }

        @Override
        public TransactionFactory build() {
            return build(threads -> new ScheduledThreadPoolExecutor(1, threads));
        }

        /** Tests: a factory whose timeout timer {@code timers} makes. */
        LocalTransactionFactory build(Function<ThreadFactory, ScheduledThreadPoolExecutor> timers) {
            return new LocalTransactionFactory(this, timers);
        }
    }

}
