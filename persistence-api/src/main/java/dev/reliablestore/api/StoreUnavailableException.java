package dev.reliablestore.api;

/**
 * The store cannot be reached or cannot accept the operation right now (no quorum, connection
 * lost, too few nodes; for the file provider also a full disk, since it resumes once space is
 * freed). The operation did not take effect, or — when the message says the outcome is unknown —
 * may have; trying again later may succeed. A store that stopped writing after a failed write
 * and must be reopened (the embedded registry's fail-stop, a full disk included) reports a plain
 * {@link PersistenceException} that is not retryable instead.
 */
public class StoreUnavailableException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message) {
        super(message);
    }

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean isRetryable() {
        return true;
    }
}
