package dev.reliablestore.registry;

/**
 * Durable state is damaged in a way recovery must not paper over (corruption before the tail of a
 * log, an unreadable snapshot). The message names the file and offset. Opening fails; nothing is
 * discarded.
 */
public class RegistryCorruptedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    public RegistryCorruptedException(String message) {
        super(message);
    }

    public RegistryCorruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
