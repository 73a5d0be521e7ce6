package dev.reliablestore.tx;

import dev.reliablestore.api.PersistenceException;

/** A call that the transaction's current status does not allow, e.g. commit after rollback. */
public class TransactionStateException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final TransactionStatus status;

    public TransactionStateException(String message, TransactionStatus status) {
        super(message);
        this.status = status;
    }

    /** The status the transaction had when the call was refused. */
    public TransactionStatus status() {
        return status;
    }
}
