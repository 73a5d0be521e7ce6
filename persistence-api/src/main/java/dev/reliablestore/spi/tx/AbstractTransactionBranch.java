package dev.reliablestore.spi.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The part of a {@link TransactionBranch} every participant shares: the buffer of writes with their
 * expected versions, the transactional views, savepoint marks and the state machine. A provider
 * implements the {@code do…} methods, which receive the net writes of the branch in the order
 * they were first made.
 *
 * <p>Failures: a {@link ConcurrencyConflictException} from {@link #doPrepare} or
 * {@link #doCommitOnePhase} is a "no" vote (the branch becomes {@link State#ROLLED_BACK} and the
 * caller gets a {@link dev.reliablestore.api.TransactionRolledBackException}). Any other exception from
 * {@link #doPrepare} makes this class call {@link #doRollback} (which must tolerate a prepared
 * record that was never written); if that succeeds the caller gets a
 * {@link dev.reliablestore.api.TransactionRolledBackException}, otherwise the branch stays {@link State#PREPARED} (in
 * doubt: only rollback is sensible) and the original exception propagates. An exception from
 * {@link #doCommit} leaves the branch prepared so the call can be repeated. A non-conflict
 * exception from {@link #doCommitOnePhase} leaves {@link State#OUTCOME_UNKNOWN}, unless it is a
 * {@link dev.reliablestore.api.TransactionRolledBackException} the provider threw because it knows
 * nothing was applied. An {@link AfterOutcomeFailure} from {@link #doCommit}, {@link #doCommitOnePhase}
 * or {@link #doRollback} says the work took effect and a step after it failed (e.g. its audit record could not be
 * written): the branch is finished all the same and the call throws the failure it carries.
 *
 * <p>All methods are synchronized on the branch.
 */
// throws the deprecated spi.tx.TransactionRolledBackException for one release, so that catch blocks of it keep working
@SuppressWarnings("removal")
public abstract class AbstractTransactionBranch implements TransactionBranch {

    private record Key(String typeName, String id) {
    }

    private record Undo(Key key, PendingWrite previous) {
    }

    private final TransactionId id;
    private final TransactionalResource resource;
    private final Map<Key, PendingWrite> writes = new LinkedHashMap<>();
    /** The committed version the branch saw per id, the base of later unconditional writes. */
    private final Map<Key, Long> observed = new HashMap<>();
    private final List<Undo> undoLog = new ArrayList<>();
    private final Map<String, TransactionalView<?>> views = new HashMap<>();
    private State state = State.ACTIVE;

    protected AbstractTransactionBranch(TransactionId id, TransactionalResource resource) {
        this.id = Objects.requireNonNull(id, "id");
        this.resource = Objects.requireNonNull(resource, "resource");
    }

    // ---- what a provider implements --------------------------------------------------------

    /** The resource's ordinary (committed-data) store for the type. */
    protected abstract <T> EntityStore<T> committedStore(String typeName, Class<T> type);

    /**
     * A copy of {@code entity} that shares no mutable state with it, made through the provider's
     * codec (decoding what encoding it gives): a save in a transaction keeps the entity as it was
     * at the call, as a save outside one stores it then, although the commit encodes it later; and
     * each read in the transaction gets a copy of its own, so changing the object a read returned
     * (or the one passed to save) changes nothing that is committed.
     *
     * @throws dev.reliablestore.api.PersistenceException when the entity cannot be encoded
     */
    protected abstract <T> T copy(String typeName, Class<T> type, T entity);

    /**
     * Validates every expected version, then durably records the writes and locks their entities,
     * all or nothing. A {@link ConcurrencyConflictException} means nothing was recorded.
     */
    protected abstract void doPrepare(List<PendingWrite> writes);

    /** Applies the prepared writes and removes the record and the locks. */
    protected abstract void doCommit(List<PendingWrite> writes);

    /** Validates and applies the writes atomically without a prepared record. */
    protected abstract void doCommitOnePhase(List<PendingWrite> writes);

    /**
     * Undoes the branch; {@code prepareAttempted} says whether a prepared record and locks may
     * exist (remove them if they do; their absence is not an error).
     */
    protected abstract void doRollback(List<PendingWrite> writes, boolean prepareAttempted);

    /** Called once when the branch reaches a final state, e.g. to forget it in the resource. */
    protected void completed() {
    }

    /**
     * What {@link #doCommit}, {@link #doCommitOnePhase} or {@link #doRollback} throws when its work took
     * effect and a step after it failed, e.g. the audit record of a commit: the branch ends {@link State#COMMITTED} (or
     * {@link State#ROLLED_BACK}) as if the call had succeeded, and the call then throws
     * {@link #failure()}, whose message should say that the work itself took effect.
     */
    protected static final class AfterOutcomeFailure extends RuntimeException {

        private static final long serialVersionUID = 1L;

        public AfterOutcomeFailure(RuntimeException failure) {
            super(Objects.requireNonNull(failure, "failure").getMessage(), failure, false, false);
        }

        /** What failed after the work took effect. */
        public RuntimeException failure() {
            return (RuntimeException) getCause();
        }
    }

    // ---- TransactionBranch ------------------------------------------------------------------

    @Override
    public final TransactionId id() {
        return id;
    }

    @Override
    public final TransactionalResource resource() {
        return resource;
    }

    @Override
    public final synchronized State state() {
        return state;
    }

    @Override
    @SuppressWarnings("unchecked")
    public final synchronized <T> EntityStore<T> store(String typeName, Class<T> type) {
        Objects.requireNonNull(type, "type");
        TransactionalView<?> view = views.get(typeName);
        if (view == null) {
            TransactionalView<T> created = new TransactionalView<>(this, typeName, type, committedStore(typeName, type));
            views.put(typeName, created);
            return created;
        }
        if (view.valueType() != type) {
            throw new IllegalArgumentException("entity type " + typeName + " is already used in transaction " + id
                    + " with class " + view.valueType().getName() + ", not " + type.getName());
        }
        return (EntityStore<T>) view;
    }

    @Override
    public final synchronized boolean isReadOnly() {
        return writes.isEmpty();
    }

    @Override
    public final synchronized long mark() {
        requireState(State.ACTIVE, "take a savepoint");
        return undoLog.size();
    }

    @Override
    public final synchronized void rollbackTo(long mark) {
        requireState(State.ACTIVE, "roll back to a savepoint");
        if (mark < 0 || mark > undoLog.size()) {
            throw new IllegalArgumentException("savepoint mark " + mark + " of transaction " + id
                    + " is not valid: marks of the current work are 0.." + undoLog.size());
        }
        while (undoLog.size() > mark) {
            Undo undo = undoLog.remove(undoLog.size() - 1);
            if (undo.previous() == null) {
                writes.remove(undo.key());
            } else {
                writes.put(undo.key(), undo.previous());
            }
        }
    }

    /** The buffered writes, in the order their ids were first written. */
    protected final synchronized List<PendingWrite> pendingWrites() {
        return List.copyOf(writes.values());
    }

    @Override
    public final synchronized Vote prepare() {
        requireState(State.ACTIVE, "prepare");
        if (writes.isEmpty()) {
            finish(State.COMMITTED);
            return Vote.READ_ONLY;
        }
        List<PendingWrite> all = pendingWrites();
        try {
            doPrepare(all);
        } catch (ConcurrencyConflictException conflict) {
            finish(State.ROLLED_BACK);
            throw new TransactionRolledBackException(id, "transaction " + id + " rolled back at prepare: "
                    + conflict.getMessage(), conflict);
        } catch (RuntimeException failure) {
            RuntimeException afterRollback = null;
            try {
                doRollback(all, true);
            } catch (AfterOutcomeFailure after) {
                afterRollback = after.failure();
            } catch (RuntimeException rollbackFailure) {
                failure.addSuppressed(rollbackFailure);
                state = State.PREPARED;
                throw failure;
            }
            finish(State.ROLLED_BACK);
            TransactionRolledBackException no = new TransactionRolledBackException(id, "transaction " + id
                    + " rolled back: prepare failed: " + failure.getMessage(), failure);
            if (afterRollback != null) {
                no.addSuppressed(afterRollback); // the vote stands: nothing of the branch was applied
            }
            throw no;
        }
        state = State.PREPARED;
        return Vote.COMMIT;
    }

    @Override
    public final synchronized void commit() {
        requireState(State.PREPARED, "commit (two-phase)");
        try {
            doCommit(pendingWrites());
        } catch (AfterOutcomeFailure after) {
            finish(State.COMMITTED);
            throw after.failure();
        } catch (UnknownTransactionException gone) {
            // no longer prepared in the store (an earlier attempt whose answer was lost took effect): kept
            // PREPARED, the branch would stay live with its writes for good
            finish(State.OUTCOME_UNKNOWN);
            throw gone;
        }
        finish(State.COMMITTED);
    }

    @Override
    public final synchronized void commitOnePhase() {
        requireState(State.ACTIVE, "commit in one phase");
        if (writes.isEmpty()) {
            finish(State.COMMITTED);
            return;
        }
        try {
            doCommitOnePhase(pendingWrites());
        } catch (ConcurrencyConflictException conflict) {
            finish(State.ROLLED_BACK);
            throw new TransactionRolledBackException(id, "transaction " + id + " rolled back: "
                    + conflict.getMessage(), conflict);
        } catch (dev.reliablestore.api.TransactionRolledBackException rolledBack) {
            finish(State.ROLLED_BACK);
            throw rolledBack;
        } catch (AfterOutcomeFailure after) {
            finish(State.COMMITTED);
            throw after.failure();
        } catch (RuntimeException unknown) {
            finish(State.OUTCOME_UNKNOWN);
            throw unknown;
        }
        finish(State.COMMITTED);
    }

    @Override
    public final synchronized void rollback() {
        switch (state) {
            case ROLLED_BACK:
                return;
            case COMMITTED:
            case OUTCOME_UNKNOWN:
                throw new IllegalStateException("cannot roll back transaction branch " + id + ": it is " + state);
            default:
                try {
                    doRollback(pendingWrites(), state == State.PREPARED);
                } catch (AfterOutcomeFailure after) {
                    finish(State.ROLLED_BACK);
                    throw after.failure();
                }
                finish(State.ROLLED_BACK);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + ", " + state() + "]";
    }

    // ---- used by the views --------------------------------------------------------------------

    synchronized void ensureActive(String typeName) {
        if (state != State.ACTIVE) {
            throw new IllegalStateException("transaction branch " + id + " is " + state
                    + "; its view of " + typeName + " can no longer be used");
        }
    }

    synchronized boolean isActive() {
        return state == State.ACTIVE;
    }

    /** The branch's own pending write for the id, if any. */
    synchronized PendingWrite pending(String typeName, String id) {
        return writes.get(new Key(typeName, id));
    }

    /** Pending writes of one type, by id. */
    synchronized Map<String, PendingWrite> pendingOfType(String typeName) {
        Map<String, PendingWrite> out = new HashMap<>();
        for (Map.Entry<Key, PendingWrite> e : writes.entrySet()) {
            if (e.getKey().typeName().equals(typeName)) {
                out.put(e.getKey().id(), e.getValue());
            }
        }
        return out;
    }

    synchronized void observe(String typeName, String id, long version) {
        observed.putIfAbsent(new Key(typeName, id), version);
    }

    /**
     * The version the branch currently sees for the id: its own write's, else the observed
     * committed one (reading it when not yet seen).
     */
    synchronized long currentVersion(String typeName, String id, EntityStore<?> committed) {
        Key key = new Key(typeName, id);
        PendingWrite w = writes.get(key);
        if (w != null) {
            return w.isDelete() ? Versioned.ABSENT : w.newVersion();
        }
        Long seen = observed.get(key);
        if (seen == null) {
            Optional<? extends Versioned<?>> v = committed.get(id);
            seen = v.map(Versioned::version).orElse(Versioned.ABSENT);
            observed.put(key, seen);
        }
        return seen;
    }

    /** Buffers a write whose expected version the view has checked; value null = delete. */
    synchronized void buffer(String typeName, String id, Object value) {
        ensureActive(typeName);
        Key key = new Key(typeName, id);
        PendingWrite previous = writes.get(key);
        long base = previous != null ? previous.expectedVersion() : observed.getOrDefault(key, Versioned.ABSENT);
        undoLog.add(new Undo(key, previous));
        if (value == null && base == Versioned.ABSENT) {
            // created and deleted inside the transaction: nothing to apply
            writes.remove(key);
        } else {
            writes.put(key, new PendingWrite(typeName, id, value, base));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void requireState(State expected, String action) {
        if (state != expected) {
            throw new IllegalStateException("cannot " + action + " transaction branch " + id + ": it is "
                    + state + ", expected " + expected);
        }
    }

    private void finish(State finalState) {
        state = finalState;
        views.clear();
        completed();
    }
}
