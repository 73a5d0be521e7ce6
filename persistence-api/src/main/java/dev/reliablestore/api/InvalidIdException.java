package dev.reliablestore.api;

/** An id or type name breaks the rules of {@link EntityIds}; nothing was read or written. */
public class InvalidIdException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final String invalidId;

    public InvalidIdException(String invalidId, String message) {
        super(message);
        this.invalidId = invalidId;
    }

    /** The rejected value (may be null). */
    public String invalidId() {
        return invalidId;
    }
}
