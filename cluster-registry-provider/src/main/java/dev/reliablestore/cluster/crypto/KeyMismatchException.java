package dev.reliablestore.cluster.crypto;

/**
 * The keys a factory was given are not the ones its store's values were written with: a key has the
 * id of a recorded key but other material, or none of the key ids is one the store knows (a wrong
 * passphrase, key store or key). Thrown when the factory opens, before anything is written; the
 * message names key ids only.
 */
public class KeyMismatchException extends KeyManagementException {

    private static final long serialVersionUID = 1L;

    public KeyMismatchException(String message) {
        super(message);
    }
}
