package dev.reliablestore.spi.tx;

import dev.reliablestore.api.PersistenceException;

/** No branch with this id is live or prepared at this resource (XA's {@code XAER_NOTA}). */
public class UnknownTransactionException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final transient TransactionId transactionId;

    public UnknownTransactionException(TransactionId transactionId, String resource) {
        super("no live or prepared transaction branch " + transactionId + " at " + resource);
        this.transactionId = transactionId;
    }

    public TransactionId transactionId() {
        return transactionId;
    }
}
