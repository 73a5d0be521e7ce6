package dev.reliablestore.spi.tx;

import dev.reliablestore.api.EntityStore;

/**
 * One resource's part of one transaction.
 *
 * <h2>Work</h2>
 * {@link #store} hands out views of the resource's stores bound to this branch: reads see the
 * branch's own writes first and the last committed data otherwise (read committed); writes are
 * buffered, each with the version it expects, and reach the resource only at prepare / commit.
 * Every buffered write is conditional: an unconditional {@code save} or {@code delete} through a
 * view expects the version the branch saw when it first touched that id, so a transaction never
 * silently overwrites a concurrent change. Views refuse all calls once the branch has left
 * {@link State#ACTIVE}.
 *
 * <h2>Completion</h2>
 * Either {@link #commitOnePhase()}, or {@link #prepare()} followed by {@link #commit()} or
 * {@link #rollback()}. {@link #rollback()} is allowed in any unfinished state and is a no-op on a
 * rolled-back branch. A call in the wrong state throws {@link IllegalStateException} naming the
 * state.
 */
public interface TransactionBranch {

    /** Where a branch is in its life. */
    enum State {
        /** Work may be done; nothing has reached the resource. */
        ACTIVE,
        /** Durably prepared; waits for the coordinator's decision. */
        PREPARED,
        /** Applied (or read-only and finished). */
        COMMITTED,
        /** Nothing applied. */
        ROLLED_BACK,
        /**
         * A one-phase commit failed without saying whether it applied, or a prepared branch's commit found
         * it no longer prepared in the store (an earlier attempt whose answer was lost took effect, or
         * another coordinator finished it); the data tells.
         */
        OUTCOME_UNKNOWN
    }

    TransactionId id();

    /** The resource this branch belongs to. */
    TransactionalResource resource();

    State state();

    /**
     * A view of the entity type's store bound to this branch (see the class comment). Asking twice
     * for a type name gives the same view.
     *
     * @throws IllegalArgumentException when the type name was already used with another class
     */
    <T> EntityStore<T> store(String typeName, Class<T> type);

    /** {@link #store(String, Class)} named by the class's simple name. */
    default <T> EntityStore<T> store(Class<T> type) {
        return store(type.getSimpleName(), type);
    }

    /** Whether no write is buffered. */
    boolean isReadOnly();

    /** A marker of the buffered work so far, for {@link #rollbackTo(long)} (a savepoint). */
    long mark();

    /**
     * Undoes every write buffered after {@code mark} was taken.
     *
     * @throws IllegalArgumentException when the mark is not one this branch handed out or was undone already
     */
    void rollbackTo(long mark);

    /**
     * Phase one: validates every expected version and makes the writes durable but invisible,
     * locking the touched entities.
     *
     * @return {@link Vote#READ_ONLY} when nothing was written (the branch is then finished), else {@link Vote#COMMIT}
     * @throws dev.reliablestore.api.TransactionRolledBackException the "no" vote: the branch has
     *         rolled back already. Any other exception is a failure, not a vote: the branch may still
     *         hold a prepared record, and the coordinator rolls it back.
     */
    Vote prepare();

    /**
     * Phase two of a prepared branch: applies the writes and releases the locks. After an exception
     * the branch is either still {@link State#PREPARED} (nothing changed, or the call could not tell;
     * it may be repeated) or {@link State#COMMITTED}: the writes were applied and a step after them
     * failed (e.g. their audit record could not be written), which the exception says; the branch is
     * finished. A {@link UnknownTransactionException} says the store no longer holds the branch
     * prepared (a repeated call after an outcome it could not tell, whose first attempt took effect):
     * the branch is then finished, {@link State#OUTCOME_UNKNOWN}.
     */
    void commit();

    /**
     * Validates and applies everything at once, with no prepared record, for a branch that is the
     * transaction's only participant.
     *
     * @throws dev.reliablestore.api.TransactionRolledBackException when it could not commit; nothing
     *         was applied. After any other exception the branch is either {@link State#OUTCOME_UNKNOWN}
     *         (it cannot tell whether the writes were applied) or {@link State#COMMITTED}: the writes were
     *         applied and a step after them failed (e.g. their audit record could not be written), which
     *         the exception says; the branch is finished either way.
     */
    void commitOnePhase();

    /**
     * Discards the work; for a prepared branch removes the prepared record and releases the locks.
     * After an exception the branch is either unchanged or {@link State#ROLLED_BACK}: the rollback
     * took effect and a step after it failed (e.g. its audit record could not be written), which
     * the exception says; the branch is finished.
     */
    void rollback();
}
