package dev.reliablestore.registry;

/** A value, path or batch is over a limit of the registry; nothing was written. */
public class RegistryLimitException extends RegistryArgumentException {

    private static final long serialVersionUID = 1L;

    private final long size;
    private final long limit;

    public RegistryLimitException(String message, long size, long limit) {
        super(message);
        this.size = size;
        this.limit = limit;
    }

    /** The offending size (bytes, characters or count, as the message says). */
    public long size() {
        return size;
    }

    public long limit() {
        return limit;
    }
}
