package dev.reliablestore.api;

/**
 * Stored data cannot be turned back into an entity: it is corrupt, truncated, tampered with,
 * moved from another place, encrypted under an unknown or wrong key, or in an unknown format.
 * Never retryable; the stored bytes are left as they are for inspection.
 */
public class DataIntegrityException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public DataIntegrityException(String message) {
        super(message);
    }

    public DataIntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
