package dev.reliablestore.registry;

/**
 * The registry cannot serve the call now (connection lost, no quorum, too few nodes, a server that
 * cannot write). Retryable: the same call may succeed later. When {@link #outcomeUnknown()} is true
 * a write may or may not have been applied (the connection broke after it was sent); the caller
 * must read to find out. A registry that stopped itself after a failed write to its own storage
 * throws {@link RegistryStoppedException} instead, which is not retryable.
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
