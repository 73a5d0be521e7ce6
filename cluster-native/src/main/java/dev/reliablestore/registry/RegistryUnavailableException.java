package dev.reliablestore.registry;

/**
 * The registry cannot serve the call now (connection lost, no quorum, disk full or failing, too
 * few nodes). Retryable. When {@link #outcomeUnknown()} is true a write may or may not have been
 * applied (the connection broke after it was sent); the caller must read to find out.
 */
public class RegistryUnavailableException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final boolean outcomeUnknown;

    public RegistryUnavailableException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public RegistryUnavailableException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
