package dev.reliablestore.registry;

/** An argument breaks the registry contract (a bad name, a bad value encoding); nothing was written. */
public class RegistryArgumentException extends RegistryException {

    private static final long serialVersionUID = 1L;

    public RegistryArgumentException(String message) {
        super(message);
    }
}
