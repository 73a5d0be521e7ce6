package dev.reliablestore.spi.tx;

/**
 * A branch voted "no" or could not commit in one phase: the participant has already rolled its
 * work back and nothing of it was applied.
 *
 * @deprecated for one release: catch and throw {@link dev.reliablestore.api.TransactionRolledBackException}
 *             instead (its superclass, in the package of every other exception a user catches).
 *             Until this class is removed, ReliableStore still throws it (and
 *             {@link dev.reliablestore.api.TransactionTimedOutException} still extends it), so a
 *             {@code catch} of this type keeps seeing every rollback.
 */
@Deprecated(since = "0.1.0", forRemoval = true)
public class TransactionRolledBackException extends dev.reliablestore.api.TransactionRolledBackException {

    private static final long serialVersionUID = 1L;

    private final transient TransactionId transactionId;

    public TransactionRolledBackException(TransactionId transactionId, String message, Throwable cause) {
        super(message, cause);
        this.transactionId = transactionId;
    }

    /** The branch or transaction that was rolled back, when the thrower gave it (null otherwise). */
    public TransactionId transactionId() {
        return transactionId;
    }
}
