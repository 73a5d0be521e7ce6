package dev.reliablestore.tx;

/**
 * A call that the transaction's current status does not allow, e.g. commit after rollback.
 *
 * @deprecated for one release: catch {@link dev.reliablestore.api.TransactionStateException}
 *             instead (its superclass; {@code statusName()} names the status). Until this class is
 *             removed, the coordinator still throws it, so a {@code catch} of this type keeps working.
 */
@Deprecated(since = "0.1.0", forRemoval = true)
public class TransactionStateException extends dev.reliablestore.api.TransactionStateException {

    private static final long serialVersionUID = 1L;

    private final TransactionStatus status;

    public TransactionStateException(String message, TransactionStatus status) {
        super(message, status.name());
        this.status = status;
    }

    /** The status the transaction had when the call was refused. */
    public TransactionStatus status() {
        return status;
    }
}
