package dev.reliablestore.spi.tx;

import dev.reliablestore.api.PersistenceException;

/**
 * A branch voted "no" or could not commit in one phase: the participant has already rolled its
 * work back and nothing of it was applied. The cause says why, typically a
 * {@link dev.reliablestore.api.ConcurrencyConflictException} for an expected version that no
 * longer holds, or a {@link dev.reliablestore.api.StoreUnavailableException}.
 */
public class TransactionRolledBackException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final transient TransactionId transactionId;

    public TransactionRolledBackException(TransactionId transactionId, String message, Throwable cause) {
        super(message, cause);
        this.transactionId = transactionId;
    }

    /** The branch that was rolled back. */
    public TransactionId transactionId() {
        return transactionId;
    }

    /** Retryable when its cause is (a conflict is not retryable by itself; see the retry helper). */
    @Override
    public boolean isRetryable() {
        return getCause() instanceof PersistenceException p && p.isRetryable();
    }
}
