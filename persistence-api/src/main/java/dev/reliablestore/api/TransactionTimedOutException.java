package dev.reliablestore.api;

/**
 * The transaction's timeout passed before it committed; it was rolled back and nothing of it was
 * applied. Thrown by {@code commit()} of a timed-out transaction.
 *
 * <p>A {@link TransactionRolledBackException}. For one release it extends the deprecated
 * {@code dev.reliablestore.spi.tx.TransactionRolledBackException} (itself a
 * {@link TransactionRolledBackException}) so that {@code catch} blocks written against that type
 * still see timeouts; once the deprecated type is removed it extends
 * {@link TransactionRolledBackException} directly. Replaces
 * {@code dev.reliablestore.tx.TransactionTimedOutException}, kept for one release as a deprecated
 * subclass.
 */
@SuppressWarnings({"removal", "deprecation"})
public class TransactionTimedOutException extends dev.reliablestore.spi.tx.TransactionRolledBackException {

    private static final long serialVersionUID = 1L;

    public TransactionTimedOutException(String message) {
        super(null, message, null);
    }
}
