package dev.reliablestore.registry;

/** The registry was closed. */
public class RegistryClosedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    public RegistryClosedException(String what) {
        super(what + " is closed");
    }
}
