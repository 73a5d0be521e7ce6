package dev.reliablestore.api;

/**
 * A call that the transaction's current status does not allow, e.g. {@code commit()} after
 * {@code rollback()}, or using a store of a transaction that has ended. A programming error rather
 * than an outcome: nothing was changed by the call.
 *
 * <p>Replaces {@code dev.reliablestore.tx.TransactionStateException}, which is kept for one release
 * as a deprecated subclass (with the status as a {@code TransactionStatus}); until it is removed,
 * that subclass is what ReliableStore throws, so {@code catch} blocks of either type work.
 */
public class TransactionStateException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final String statusName;

    /**
     * @param statusName the name of the status the transaction had, e.g. {@code "TIMED_OUT"}
     *                   ({@code dev.reliablestore.tx.TransactionStatus.valueOf(statusName)} gives the constant)
     */
    public TransactionStateException(String message, String statusName) {
        super(message);
        this.statusName = statusName;
    }

    /** The name of the status the transaction had when the call was refused, e.g. {@code "COMMITTED"}. */
    public String statusName() {
        return statusName;
    }
}
