package dev.reliablestore.api;

/** The root of every error a ReliableStore store reports. */
public class PersistenceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean outcomeUnknown;

    public PersistenceException(String message) {
        super(message); // no cause yet: a subclass or a translator may still initCause
        this.outcomeUnknown = false;
    }

    public PersistenceException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /**
     * @param outcomeUnknown whether the write that failed may nonetheless have taken effect (see
     *     {@link #outcomeUnknown()})
     */
    public PersistenceException(String message, Throwable cause, boolean outcomeUnknown) {
        super(message, cause);
        this.outcomeUnknown = outcomeUnknown;
    }

    /** Whether the same call may succeed if tried again later (see {@link StoreUnavailableException}). */
    public boolean isRetryable() {
        return false;
    }

    /**
     * Whether the write that failed may have taken effect all the same, in whole or in part: an
     * attempt of it was sent and its answer lost, the store failed after the point from which the
     * write is applied (e.g. flushing it to the disk failed, or its audit record could not be
     * written), or a {@code clear()} failed after deleting some entities. Read to find out. False
     * means the write did not take effect — or the call was not a write. A caller that retries a
     * write on an error must check this first when the write is not idempotent.
     */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
