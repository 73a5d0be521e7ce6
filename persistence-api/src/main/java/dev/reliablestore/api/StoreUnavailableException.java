package dev.reliablestore.api;

/**
 * The store cannot be reached or cannot accept the operation right now (no quorum, connection
 * lost, too few nodes; for the file provider also a full disk, since it resumes once space is
 * freed). The operation did not take effect, or — when {@link #outcomeUnknown()} is true — may
 * have, in whole or in part (an attempt was sent and its answer lost — not only the last attempt;
 * the write became visible and flushing it failed; a clear failed part way): read to find out.
 * Trying again later may succeed. A store that stopped writing after a failed write and must be
 * reopened (the embedded registry's fail-stop, a full disk included) reports a plain
 * {@link PersistenceException} that is not retryable instead, whose {@code outcomeUnknown()} says
 * the same.
 */
public class StoreUnavailableException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message) {
        this(message, null, false);
    }

    public StoreUnavailableException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /** @param outcomeUnknown whether the write may have taken effect (see {@link PersistenceException#outcomeUnknown()}) */
    public StoreUnavailableException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause, outcomeUnknown);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
