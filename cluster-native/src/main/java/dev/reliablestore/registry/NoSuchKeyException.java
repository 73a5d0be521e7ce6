package dev.reliablestore.registry;

/** A read named a key that does not exist. */
public class NoSuchKeyException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final RegistryPath key;

    public NoSuchKeyException(RegistryPath key) {
        super("registry key \"" + key + "\" does not exist");
        this.key = key;
    }

    public RegistryPath key() {
        return key;
    }
}
