package dev.reliablestore.cluster;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreUnavailableException;

import java.util.OptionalLong;
import java.util.concurrent.CompletionException;

/**
 * One write's memory, across the lost races it plans again after, that an attempt of it was sent and
 * lost its answer and may have landed: its retry lost its condition and the check found another
 * writer's value, which cannot tell "never landed" from "landed, then overwritten". Each registry
 * call retries afresh ({@link Retrier}), so without it a later failure of the same write (a read, a
 * lock, the race limit) would read as "nothing written".
 */
final class LostAnswer {

    /** Set on the thread that checked the landing, read where the write fails (an async save's completion). */
    private volatile boolean mayHaveLanded;

    /** The check could not settle the lost attempt: empty, so that the write is planned again, and remembered. */
    OptionalLong unsettled() {
        mayHaveLanded = true;
        return OptionalLong.empty();
    }

    boolean mayHaveLanded() {
        return mayHaveLanded;
    }

    /**
     * {@code failed} as it is, unless an attempt may have landed and it does not say so: then an error
     * whose {@code outcomeUnknown()} is true, with it as the cause (a {@code StoreUnavailableException}
     * for an unavailable or closed registry, as the gateway gives after a lost answer).
     */
    RuntimeException failure(String what, RuntimeException failed) {
        if (!mayHaveLanded || failed instanceof PersistenceException p && p.outcomeUnknown()) {
            return failed;
        }
        String message = what + " failed: an earlier attempt was sent and its answer lost, and it may have landed (its retry lost"
                + " its condition to another writer's value, so whether it landed before that cannot be told); the outcome is unknown:"
                + " read to decide. It was planned again and then failed: " + failed.getMessage();
        return failed instanceof StoreUnavailableException || failed instanceof StoreClosedException
                ? new StoreUnavailableException(message, failed, true) : new PersistenceException(message, failed, true);
    }

    /** {@link #failure(String, RuntimeException)} for the failure of a future. */
    Throwable failureOf(String what, Throwable failed) {
        Throwable cause = failed instanceof CompletionException && failed.getCause() != null ? failed.getCause() : failed;
        return cause instanceof RuntimeException r ? failure(what, r) : cause;
    }
}
