package dev.reliablestore.tx;

import dev.reliablestore.api.PersistenceException;

/**
 * The transaction could not be brought to a known end everywhere: a one-phase commit failed
 * without saying whether it applied, or a rollback failed. The transaction is
 * {@link TransactionStatus#FAILED}; the cause tells which participant and why.
 */
public class TransactionOutcomeUnknownException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public TransactionOutcomeUnknownException(String message, Throwable cause) {
        super(message, cause);
    }
}
