package dev.reliablestore.registry;

/**
 * The registry stopped accepting writes because writing to its durable storage failed (fail-stop,
 * e.g. the embedded backend after a failed log write or fsync, a full disk included). After such a
 * failure it cannot vouch for what is on disk, so it neither retries nor recovers by itself. Not
 * retryable: every write fails with this at once until the registry is closed and opened again,
 * after the cause ({@link #getCause()}) is fixed; opening replays what the storage really holds.
 * Reads keep serving the last state. When {@link #outcomeUnknown()} is true the batch was being
 * written when the failure happened and may or may not be durable: read after reopening.
 */
public class RegistryStoppedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final boolean outcomeUnknown;

    public RegistryStoppedException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
