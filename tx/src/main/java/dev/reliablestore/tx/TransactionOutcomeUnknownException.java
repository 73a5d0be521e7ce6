package dev.reliablestore.tx;

/**
 * The transaction could not be brought to a known end everywhere: a one-phase commit failed
 * without saying whether it applied, or a rollback failed. The transaction is
 * {@link TransactionStatus#FAILED}; the cause tells which participant and why.
 *
 * @deprecated for one release: catch {@link dev.reliablestore.api.TransactionOutcomeUnknownException}
 *             instead (its superclass). Until this class is removed, the coordinator still throws
 *             it, so a {@code catch} of this type keeps working.
 */
@Deprecated(since = "0.1.0", forRemoval = true)
public class TransactionOutcomeUnknownException extends dev.reliablestore.api.TransactionOutcomeUnknownException {

    private static final long serialVersionUID = 1L;

    public TransactionOutcomeUnknownException(String message, Throwable cause) {
        super(message, cause);
    }
}
