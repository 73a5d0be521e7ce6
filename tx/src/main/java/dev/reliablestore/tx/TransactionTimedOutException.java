package dev.reliablestore.tx;

import dev.reliablestore.spi.tx.TransactionId;

/**
 * The transaction's timeout passed before it committed; it was rolled back.
 *
 * @deprecated for one release: catch {@link dev.reliablestore.api.TransactionTimedOutException}
 *             instead (its superclass). Until this class is removed, the coordinator still throws it,
 *             so a {@code catch} of this type keeps working.
 */
@Deprecated(since = "0.1.0", forRemoval = true)
public class TransactionTimedOutException extends dev.reliablestore.api.TransactionTimedOutException {

    private static final long serialVersionUID = 1L;

    private final transient TransactionId transactionId;

    public TransactionTimedOutException(TransactionId id, String message) {
        super(message);
        this.transactionId = id;
    }

    /** The global id of the transaction that timed out. */
    @Override
    public TransactionId transactionId() {
        return transactionId;
    }
}
