package dev.reliablestore.tx;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.TransactionTimedOutException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.Vote;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/** A transaction of the local coordinator. */
final class LocalTransaction implements Transaction {

    private static final Logger LOG = LoggerFactory.getLogger(LocalTransaction.class);

    /** A resource's part of this transaction; its stores are the branch's views behind {@link TransactionStore}. */
    private final class Enlistment implements EnlistedResource {
        private final TransactionalResource resource;
        private final TransactionBranch branch;
        private final Map<EntityStore<?>, TransactionStore<?>> stores = new IdentityHashMap<>();

        Enlistment(TransactionalResource resource, TransactionBranch branch) {
            this.resource = resource;
            this.branch = branch;
        }

        @Override
        public TransactionalResource resource() {
            return resource;
        }

        TransactionBranch branch() {
            return branch;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> EntityStore<T> store(String typeName, Class<T> type) {
            EntityStore<T> view = branch.store(typeName, type);
            synchronized (stores) {
                return (EntityStore<T>) stores.computeIfAbsent(view, v -> new TransactionStore<>(LocalTransaction.this, view,
                        branch.id().toString()));
            }
        }
    }

    private final LocalTransactionFactory factory;
    private final TransactionId global;
    private final String idText;
    private final Instant deadline;
    private final Duration timeout;
    private final ReentrantLock lock = new ReentrantLock();
    private final List<Enlistment> enlistments = new ArrayList<>();
    private final LinkedHashMap<String, Map<TransactionBranch, Long>> savepoints = new LinkedHashMap<>();
    private final List<Consumer<TransactionStatus>> callbacks = new ArrayList<>();
    private volatile TransactionStatus status = TransactionStatus.ACTIVE;
    private boolean rollbackOnly;
    private ScheduledFuture<?> timeoutTask;

    LocalTransaction(LocalTransactionFactory factory, TransactionId global, String nodeName, Duration timeout) {
        this.factory = factory;
        this.global = global;
        byte[] g = global.globalId();
        this.idText = nodeName + "-" + HexFormat.of().formatHex(g, g.length - 16, g.length);
        this.timeout = timeout;
        this.deadline = Instant.now().plus(timeout);
    }

    void scheduleTimeout() {
        timeoutTask = factory.schedule(this::timeOut, timeout);
    }

    // ---- Transaction --------------------------------------------------------------------------

    @Override
    public String id() {
        return idText;
    }

    @Override
    public TransactionStatus status() {
        return status;
    }

    @Override
    public Instant deadline() {
        return deadline;
    }

    @Override
    public EnlistedResource enlist(TransactionalResource resource) {
        Objects.requireNonNull(resource, "resource");
        lock.lock();
        try {
            requireActive("enlist a resource in");
            for (Enlistment e : enlistments) {
                if (e.resource() == resource) {
                    throw new IllegalArgumentException("resource " + resource.resourceManagerId()
                            + " is already enlisted in transaction " + idText);
                }
            }
            byte[] qualifier = Integer.toString(enlistments.size() + 1).getBytes(StandardCharsets.US_ASCII);
            TransactionBranch branch = resource.begin(TransactionId.of(global.formatId(), global.globalId(), qualifier));
            Enlistment enlistment = new Enlistment(resource, branch);
            enlistments.add(enlistment);
            return enlistment;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void savepoint(String name) {
        Objects.requireNonNull(name, "name");
        lock.lock();
        try {
            requireActive("take a savepoint in");
            if (savepoints.containsKey(name)) {
                throw new IllegalArgumentException("transaction " + idText + " already has a savepoint named \"" + name + "\"");
            }
            Map<TransactionBranch, Long> marks = new IdentityHashMap<>();
            for (Enlistment e : enlistments) {
                marks.put(e.branch(), e.branch().mark());
            }
            savepoints.put(name, marks);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void rollbackToSavepoint(String name) {
        lock.lock();
        try {
            requireActive("roll back to a savepoint of");
            Map<TransactionBranch, Long> marks = marksOf(name);
            for (Enlistment e : enlistments) {
                e.branch().rollbackTo(marks.getOrDefault(e.branch(), 0L));
            }
            discardAfter(name, false);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void releaseSavepoint(String name) {
        lock.lock();
        try {
            requireActive("release a savepoint of");
            marksOf(name);
            discardAfter(name, true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onCompletion(Consumer<TransactionStatus> callback) {
        Objects.requireNonNull(callback, "callback");
        lock.lock();
        try {
            requireActive("register a completion callback on");
            callbacks.add(callback);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setRollbackOnly() {
        lock.lock();
        try {
            rollbackOnly = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isRollbackOnly() {
        lock.lock();
        try {
            return rollbackOnly;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void commit() {
        lock.lock();
        try {
            commitLocked();
        } finally {
            lock.unlock();
            fireCallbacksIfEnded();
        }
    }

    @Override
    public void rollback() {
        lock.lock();
        try {
            switch (status) {
                case ROLLED_BACK, TIMED_OUT -> {
                    return;
                }
                case ACTIVE -> {
                    List<AfterOutcome> after = new ArrayList<>();
                    RollbackFailure failure = rollbackAll(null, after);
                    if (failure != null) {
                        end(TransactionStatus.FAILED);
                        RuntimeException e = Failures.outcomeUnknown("rollback of transaction " + idText
                                + " failed in a participant; a prepared branch it left is finished by recover()", failure.first());
                        after.forEach(a -> e.addSuppressed(a.failure()));
                        throw e;
                    }
                    end(TransactionStatus.ROLLED_BACK);
                    if (!after.isEmpty()) {
                        throw failedAfter("rolled back", "its rollback", after);
                    }
                }
                default -> throw Failures.state("cannot roll back transaction " + idText + ": "
                        + describe(status), status);
            }
        } finally {
            lock.unlock();
            fireCallbacksIfEnded();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (status != TransactionStatus.ACTIVE) {
                return;
            }
        } finally {
            lock.unlock();
        }
        rollback();
    }

    @Override
    public String toString() {
        return "Transaction[" + idText + ", " + status + ", " + enlistments.size() + " resource(s)]";
    }

    // ---- commit -------------------------------------------------------------------------------

    private void commitLocked() {
        if (status == TransactionStatus.TIMED_OUT) {
            throw timedOut();
        }
        if (status != TransactionStatus.ACTIVE) {
            throw Failures.state("cannot commit transaction " + idText + ": " + describe(status), status);
        }
        if (Instant.now().isAfter(deadline)) {
            throw rollBackAndEnd(null, TransactionStatus.TIMED_OUT, timedOut(),
                    "its timeout of " + timeout + " passed (deadline " + deadline + ")");
        }
        if (rollbackOnly) {
            throw rollBackAndEnd(null, TransactionStatus.ROLLED_BACK, Failures.rolledBack(global,
                    "transaction " + idText + " was marked rollback-only and has been rolled back", null),
                    "it was marked rollback-only");
        }
        // before the branches are told apart: a store call from then on is refused, so none can turn a
        // branch counted as a reader into a writer whose write nobody commits
        status = TransactionStatus.PREPARING;
        List<TransactionBranch> writers = new ArrayList<>();
        List<TransactionBranch> readers = new ArrayList<>();
        for (Enlistment e : enlistments) {
            (e.branch().isReadOnly() ? readers : writers).add(e.branch());
        }
        if (writers.size() > 1 && factory.log() == null) {
            throw rollBackAndEnd(null, TransactionStatus.ROLLED_BACK, new ConfigurationException("transaction " + idText
                    + " has " + writers.size() + " participants with writes; two-phase commit needs a coordinator log to"
                    + " recover after a crash, and this TransactionFactory has none (set logDirectory); the transaction was"
                    + " rolled back"), "it has " + writers.size() + " participants with writes and this TransactionFactory"
                    + " has no coordinator log (set logDirectory)");
        }
        for (TransactionBranch reader : readers) {
            prepareOrAbort(reader); // finishes the read-only branch
        }
        if (writers.isEmpty()) {
            end(TransactionStatus.COMMITTED);
            return;
        }
        if (writers.size() == 1) {
            commitOnePhase(writers.get(0));
            return;
        }
        for (TransactionBranch writer : writers) {
            prepareOrAbort(writer);
        }
        status = TransactionStatus.PREPARED;
        String token = global.toToken();
        List<CoordinatorLog.Participant> participants = new ArrayList<>();
        for (TransactionBranch w : writers) {
            participants.add(new CoordinatorLog.Participant(w.resource().resourceManagerId(), w.id()));
        }
        try {
            factory.log().recordCommit(token, participants);
        } catch (IOException | RuntimeException logFailure) {
            if (factory.log().contains(token)) {
                // renamed into place, then an fsync failed: the decision may be durable, and a crash could bring
                // it back after a rollback and commit whatever was still prepared. So roll nothing back: every
                // branch stays prepared, all to be committed by recover() or all rolled back if a crash loses it
                end(TransactionStatus.FAILED);
                throw Failures.outcomeUnknown("transaction " + idText + ": its commit decision reached the coordinator log "
                        + factory.log().directory() + " but could not be made durable (" + logFailure + "); every participant"
                        + " is left prepared: TransactionFactory.recover() commits them all, or rolls them all back if a crash"
                        + " lost the decision first", logFailure);
            }
            String why = "its commit decision could not be written to the coordinator log " + factory.log().directory()
                    + ": " + logFailure;
            throw rollBackAndEnd(null, TransactionStatus.ROLLED_BACK,
                    Failures.rolledBack(global, "transaction " + idText + " rolled back: " + why, logFailure), why);
        }
        status = TransactionStatus.COMMITTING;
        List<RuntimeException> phase2Failures = new ArrayList<>();
        List<AfterOutcome> afterCommit = new ArrayList<>();
        for (TransactionBranch w : writers) {
            try {
                w.commit();
            } catch (RuntimeException e) {
                if (w.state() == TransactionBranch.State.COMMITTED) {
                    // applied, then e.g. its audit record failed: nothing is left for recover() to finish
                    afterCommit.add(new AfterOutcome(w.resource().resourceManagerId(), e));
                } else {
                    phase2Failures.add(e);
                }
            }
        }
        if (phase2Failures.isEmpty()) {
            factory.forget(token);
        } else {
            // The decision is commit and is logged: recover() finishes these branches later.
            LOG.warn("transaction {} is committed but {} participant(s) could not apply it yet; the decision stays in {}"
                    + " until TransactionFactory.recover() completes them: {}", idText, phase2Failures.size(),
                    factory.log().directory(), phase2Failures);
        }
        end(TransactionStatus.COMMITTED);
        if (!afterCommit.isEmpty()) {
            throw failedAfter("committed", "applying its part", afterCommit);
        }
    }

    private void prepareOrAbort(TransactionBranch branch) {
        Vote vote;
        try {
            vote = branch.prepare();
        } catch (TransactionRolledBackException no) {
            String why = branch.resource().resourceManagerId() + " voted no: " + reason(no);
            throw rollBackAndEnd(branch, TransactionStatus.ROLLED_BACK,
                    Failures.rolledBack(global, "transaction " + idText + " rolled back: " + why, no), why);
        } catch (RuntimeException error) {
            String why = "prepare failed at " + branch.resource().resourceManagerId() + ": " + error;
            throw rollBackAndEnd(null, TransactionStatus.ROLLED_BACK,
                    Failures.rolledBack(global, "transaction " + idText + " rolled back: " + why, error), why);
        }
        if (vote == Vote.READ_ONLY) {
            LOG.debug("branch {} of {} was read-only", branch.id(), idText);
        }
    }

    private void commitOnePhase(TransactionBranch only) {
        status = TransactionStatus.COMMITTING;
        try {
            only.commitOnePhase();
        } catch (TransactionRolledBackException no) {
            end(TransactionStatus.ROLLED_BACK);
            throw Failures.rolledBack(global, "transaction " + idText + " rolled back: "
                    + only.resource().resourceManagerId() + " could not commit it: " + reason(no), no);
        } catch (RuntimeException unknown) {
            if (only.state() == TransactionBranch.State.COMMITTED) {
                // applied, then e.g. its audit record failed: the transaction is committed
                end(TransactionStatus.COMMITTED);
                throw failedAfter("committed", "applying its part", List.of(new AfterOutcome(only.resource().resourceManagerId(), unknown)));
            }
            end(TransactionStatus.FAILED);
            throw Failures.outcomeUnknown("one-phase commit of transaction " + idText + " at "
                    + only.resource().resourceManagerId() + " failed and may or may not have applied: " + unknown, unknown);
        }
        end(TransactionStatus.COMMITTED);
    }

    // ---- rollback and timeout ------------------------------------------------------------------

    /** The participants whose rollback failed, and the first failure with the others suppressed. */
    private record RollbackFailure(List<String> resourceManagerIds, RuntimeException first) {
    }

    /** A branch that reached its outcome and then failed (e.g. its audit record could not be written). */
    private record AfterOutcome(String resourceManagerId, RuntimeException failure) {
    }

    /**
     * The failure to throw once the transaction ended {@code outcome} although some branches failed
     * after reaching it: the outcome itself took effect everywhere, so it says so, and may not be
     * taken for a failure to retry.
     */
    private PersistenceException failedAfter(String outcome, String step, List<AfterOutcome> after) {
        AfterOutcome first = after.get(0);
        PersistenceException e = new PersistenceException("transaction " + idText + " is " + outcome + ", but "
                + first.resourceManagerId() + " failed after " + step + ": " + first.failure().getMessage(), first.failure(), true);
        after.subList(1, after.size()).forEach(a -> e.addSuppressed(a.failure()));
        return e;
    }

    /**
     * Rolls back every unfinished branch except {@code skip}; null when every one did. A branch
     * whose rollback took effect and then failed is rolled back: it goes to {@code after}.
     */
    private RollbackFailure rollbackAll(TransactionBranch skip, List<AfterOutcome> after) {
        List<String> failed = new ArrayList<>();
        RuntimeException first = null;
        for (Enlistment e : enlistments) {
            TransactionBranch b = e.branch();
            if (b == skip || b.state() == TransactionBranch.State.COMMITTED || b.state() == TransactionBranch.State.ROLLED_BACK) {
                continue;
            }
            try {
                b.rollback();
            } catch (RuntimeException failure) {
                if (b.state() == TransactionBranch.State.ROLLED_BACK) {
                    after.add(new AfterOutcome(e.resource().resourceManagerId(), failure));
                    continue;
                }
                failed.add(e.resource().resourceManagerId());
                if (first == null) {
                    first = failure;
                } else {
                    first.addSuppressed(failure);
                }
            }
        }
        return first == null ? null : new RollbackFailure(failed, first);
    }

    /**
     * Rolls back every unfinished branch except {@code skip} and ends the commit: as {@code status}
     * with {@code rolledBack} to throw when every branch rolled back; else FAILED with a
     * {@code TransactionOutcomeUnknownException}, because a branch that could not roll back may stay
     * prepared, holding its locks, until recover() finishes it, and a caller told "rolled back" would
     * take the data for clean. {@code why}: why it did not commit, without the transaction's id; the
     * cause of {@code rolledBack} (a vote, a failure) is kept as suppressed.
     */
    private RuntimeException rollBackAndEnd(TransactionBranch skip, TransactionStatus status, RuntimeException rolledBack,
            String why) {
        List<AfterOutcome> after = new ArrayList<>();
        RollbackFailure failure = rollbackAll(skip, after);
        if (failure == null) {
            end(status);
            after.forEach(a -> rolledBack.addSuppressed(a.failure())); // still rolled back: only noted
            return rolledBack;
        }
        end(TransactionStatus.FAILED);
        RuntimeException e = Failures.outcomeUnknown("transaction " + idText + " did not commit (" + why + "), and the"
                + " rollback failed at " + String.join(", ", failure.resourceManagerIds()) + ": nothing was committed,"
                + " but a branch that could not roll back may stay prepared, holding its locks, until"
                + " TransactionFactory.recover() rolls it back", failure.first());
        if (rolledBack.getCause() != null) {
            e.addSuppressed(rolledBack.getCause());
        }
        after.forEach(a -> e.addSuppressed(a.failure()));
        return e;
    }

    private void timeOut() {
        lock.lock();
        try {
            if (status != TransactionStatus.ACTIVE) {
                return;
            }
            List<AfterOutcome> after = new ArrayList<>();
            RollbackFailure failure = rollbackAll(null, after);
            if (failure != null) {
                LOG.warn("rollback of timed-out transaction {} failed at {}", idText, failure.resourceManagerIds(), failure.first());
            }
            for (AfterOutcome a : after) {
                LOG.warn("timed-out transaction {} is rolled back at {}, but it failed after its rollback", idText,
                        a.resourceManagerId(), a.failure());
            }
            end(TransactionStatus.TIMED_OUT);
            LOG.info("transaction {} timed out after {} and was rolled back", idText, timeout);
        } finally {
            lock.unlock();
            fireCallbacksIfEnded();
        }
    }

    private TransactionTimedOutException timedOut() {
        return Failures.timedOut(global, "transaction " + idText + " timed out (timeout " + timeout
                + ", deadline " + deadline + ") and was rolled back");
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void end(TransactionStatus finalStatus) {
        status = finalStatus;
        savepoints.clear();
        if (timeoutTask != null) {
            timeoutTask.cancel(false);
        }
        factory.ended(global);
    }

    private void fireCallbacksIfEnded() {
        List<Consumer<TransactionStatus>> toRun;
        TransactionStatus finalStatus;
        lock.lock();
        try {
            finalStatus = status;
            if (!finalStatus.isFinal() || callbacks.isEmpty()) {
                return;
            }
            toRun = new ArrayList<>(callbacks);
            callbacks.clear();
        } finally {
            lock.unlock();
        }
        for (Consumer<TransactionStatus> c : toRun) {
            try {
                c.accept(finalStatus);
            } catch (RuntimeException e) {
                LOG.warn("completion callback of transaction {} failed", idText, e);
            }
        }
    }

    /**
     * Runs a store call serialized with commit and rollback (the transaction's methods are): a call
     * from another thread waits for a commit in progress, then finds the transaction ended.
     */
    <R> R serialized(java.util.function.Supplier<R> call) {
        lock.lock();
        try {
            return call.get();
        } finally {
            lock.unlock();
        }
    }

    /** Refuses a store call once the transaction is no longer active (see {@link TransactionStore}). */
    void requireUsable(String typeName, String operation) {
        if (status != TransactionStatus.ACTIVE) {
            throw endedError(typeName, operation);
        }
    }

    RuntimeException endedError(String typeName, String operation) {
        TransactionStatus now = status;
        return Failures.state("cannot " + operation + " in the store " + typeName + " of transaction " + idText
                + ": " + describe(now), now);
    }

    /** The status for a message: its name, and for the ones that need it, what it means here. */
    private String describe(TransactionStatus s) {
        return switch (s) {
            case TIMED_OUT -> "it is TIMED_OUT: its timeout of " + timeout + " passed (deadline " + deadline
                    + ") and it was rolled back";
            case FAILED -> "it is FAILED: its outcome is not known everywhere";
            case PREPARING, PREPARED, COMMITTING -> "it is " + s + ": its commit is in progress";
            default -> "it is " + s;
        };
    }

    /**
     * Why a participant rolled back, without the participant's own name for the transaction: the
     * cause's message when there is one, else the exception's.
     */
    private static String reason(TransactionRolledBackException no) {
        Throwable why = no.getCause() != null ? no.getCause() : no;
        return why.getMessage() != null ? why.getMessage() : why.toString();
    }

    private void requireActive(String action) {
        if (status != TransactionStatus.ACTIVE) {
            throw Failures.state("cannot " + action + " transaction " + idText + ": " + describe(status), status);
        }
    }

    private Map<TransactionBranch, Long> marksOf(String name) {
        Map<TransactionBranch, Long> marks = savepoints.get(name);
        if (marks == null) {
            throw new IllegalArgumentException("transaction " + idText + " has no savepoint named \"" + name
                    + "\"; it has " + savepoints.keySet());
        }
        return marks;
    }

    private void discardAfter(String name, boolean inclusive) {
        boolean after = false;
        for (var it = savepoints.keySet().iterator(); it.hasNext(); ) {
            String n = it.next();
            if (n.equals(name)) {
                after = true;
                if (inclusive) {
                    it.remove();
                }
            } else if (after) {
                it.remove();
            }
        }
    }
}
