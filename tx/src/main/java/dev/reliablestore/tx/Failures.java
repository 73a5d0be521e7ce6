package dev.reliablestore.tx;

import dev.reliablestore.api.TransactionOutcomeUnknownException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.api.TransactionStateException;
import dev.reliablestore.api.TransactionTimedOutException;
import dev.reliablestore.spi.tx.TransactionId;

/**
 * The exceptions the coordinator throws, typed as the {@code dev.reliablestore.api} ones. For one
 * release they are created as the deprecated subclasses that used to be thrown, so that
 * {@code catch} blocks written against the old types keep working; when those are removed, these
 * methods create the {@code dev.reliablestore.api} types themselves.
 */
@SuppressWarnings("removal")
final class Failures {

    private Failures() {
    }

    static TransactionRolledBackException rolledBack(TransactionId global, String message, Throwable cause) {
        return new dev.reliablestore.spi.tx.TransactionRolledBackException(global, message, cause);
    }

    static TransactionTimedOutException timedOut(TransactionId global, String message) {
        return new dev.reliablestore.tx.TransactionTimedOutException(global, message);
    }

    static TransactionStateException state(String message, TransactionStatus status) {
        return new dev.reliablestore.tx.TransactionStateException(message, status);
    }

    static TransactionOutcomeUnknownException outcomeUnknown(String message, Throwable cause) {
        return new dev.reliablestore.tx.TransactionOutcomeUnknownException(message, cause);
    }
}
