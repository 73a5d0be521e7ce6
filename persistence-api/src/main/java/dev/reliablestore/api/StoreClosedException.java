package dev.reliablestore.api;

/** The store (or its factory) was closed; open a new one. */
public class StoreClosedException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public StoreClosedException(String what) {
        super(what + " is closed; open a new one to continue");
    }
}
