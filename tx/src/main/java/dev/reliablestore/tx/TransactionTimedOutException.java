package dev.reliablestore.tx;

import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionRolledBackException;

/** The transaction's timeout passed before it committed; it was rolled back. */
public class TransactionTimedOutException extends TransactionRolledBackException {

    private static final long serialVersionUID = 1L;

    public TransactionTimedOutException(TransactionId id, String message) {
        super(id, message, null);
    }
}
