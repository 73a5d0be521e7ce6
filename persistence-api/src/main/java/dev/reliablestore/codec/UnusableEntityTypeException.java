package dev.reliablestore.codec;

import dev.reliablestore.api.ConfigurationException;

/**
 * A store was opened for a type whose values the codec could write but not read back (or not
 * write at all); the message names the type, the cause and the change that fixes it.
 */
public class UnusableEntityTypeException extends ConfigurationException {

    private static final long serialVersionUID = 1L;

    private final transient Class<?> type;

    public UnusableEntityTypeException(Class<?> type, String message, Throwable cause) {
        super(message, cause);
        this.type = type;
    }

    /** The refused entity type. */
    public Class<?> type() {
        return type;
    }
}
