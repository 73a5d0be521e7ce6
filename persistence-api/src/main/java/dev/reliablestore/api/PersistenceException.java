package dev.reliablestore.api;

/** The root of every error a ReliableStore store reports. */
public class PersistenceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PersistenceException(String message) {
        super(message);
    }

    public PersistenceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether the same call may succeed if tried again later (see {@link StoreUnavailableException}). */
    public boolean isRetryable() {
        return false;
    }
}
