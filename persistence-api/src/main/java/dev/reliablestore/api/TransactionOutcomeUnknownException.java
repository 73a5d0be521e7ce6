package dev.reliablestore.api;

/**
 * The transaction could not be brought to a known end everywhere: a one-phase commit failed
 * without saying whether it applied, or a rollback failed in a participant. The transaction's
 * status is {@code FAILED}; the cause tells which participant and why. Read the data to find out
 * what was applied; a prepared branch left behind is finished by the coordinator's recovery.
 * Its {@link #outcomeUnknown()} is always true.
 *
 * <p>Replaces {@code dev.reliablestore.tx.TransactionOutcomeUnknownException}, which is kept for one
 * release as a deprecated subclass; until it is removed, that subclass is what ReliableStore throws,
 * so {@code catch} blocks of either type work.
 */
public class TransactionOutcomeUnknownException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public TransactionOutcomeUnknownException(String message, Throwable cause) {
        super(message, cause, true);
    }
}
