package dev.reliablestore.cluster.crypto;

import dev.reliablestore.api.ConfigurationException;

/** Keys could not be loaded, created or found. Messages never contain key material or passwords. */
public class KeyManagementException extends ConfigurationException {

    private static final long serialVersionUID = 1L;

    public KeyManagementException(String message) {
        super(message);
    }

    public KeyManagementException(String message, Throwable cause) {
        super(message, cause);
    }
}
