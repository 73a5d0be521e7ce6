package dev.reliablestore.registry;

/**
 * Durable state is damaged in a way the registry must not paper over: when opening (a damaged log
 * record, a missing log segment, an unreadable snapshot; the message names the file and offset or
 * sequences, opening fails and nothing is discarded unless the backend's documented recovery
 * option says so), or when reading a stored value that cannot be decoded (the message names it).
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
