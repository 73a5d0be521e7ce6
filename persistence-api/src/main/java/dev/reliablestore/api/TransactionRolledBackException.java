package dev.reliablestore.api;

/**
 * A transaction, or one participant's part of it, was rolled back: nothing of it was applied.
 *
 * <p>What a user catches around {@code commit()}: a participant voted "no" (the cause says why,
 * typically a {@link ConcurrencyConflictException} for a version that no longer holds, or a
 * {@link StoreUnavailableException}), the transaction was marked rollback-only, its commit
 * decision could not be logged, or it timed out ({@link TransactionTimedOutException}). Retrying
 * the whole transaction may succeed: {@link #isRetryable()} says whether it may without re-reading
 * (the cause was transient); after a conflict it may only when the work re-reads what it writes.
 *
 * <p>What a participant throws from {@code TransactionBranch.prepare()} or {@code commitOnePhase()}
 * to vote "no", after it has rolled its own work back (see {@code dev.reliablestore.spi.tx}).
 *
 * <p>Replaces {@code dev.reliablestore.spi.tx.TransactionRolledBackException}, which is kept for one
 * release as a deprecated subclass; until it is removed, this is what ReliableStore throws, so
 * {@code catch} blocks of either type see every rollback.
 */
public class TransactionRolledBackException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public TransactionRolledBackException(String message) {
        super(message);
    }

    public TransactionRolledBackException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Retryable when its cause is (a conflict is not retryable by itself; see {@code RetryPolicy.retryConflicts}). */
    @Override
    public boolean isRetryable() {
        return getCause() instanceof PersistenceException p && p.isRetryable();
    }
}
