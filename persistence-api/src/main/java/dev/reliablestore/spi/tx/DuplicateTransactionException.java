package dev.reliablestore.spi.tx;

import dev.reliablestore.api.PersistenceException;

/** A branch with this id already exists at this resource (XA's {@code XAER_DUPID}). */
public class DuplicateTransactionException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final transient TransactionId transactionId;

    public DuplicateTransactionException(TransactionId transactionId, String resource) {
        super("transaction branch " + transactionId + " already exists at " + resource);
        this.transactionId = transactionId;
    }

    public TransactionId transactionId() {
        return transactionId;
    }
}
