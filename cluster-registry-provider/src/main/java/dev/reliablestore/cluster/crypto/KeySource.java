package dev.reliablestore.cluster.crypto;

/**
 * Where the data-encryption keys of a store come from (configuration key
 * {@code keyManagementService}). Built-in sources: {@link KeySources#keyStore} (a BCFKS or PKCS#12
 * file) and {@link KeySources#passphrase} (Argon2id + HKDF). Implement this interface to plug in a
 * key management service and pass it to the configuration builder.
 *
 * <p>Rotation: a source returns every key still needed to read stored values and names the newest
 * one; new writes use the newest, old values stay readable, and the store's {@code reencrypt()}
 * rewrites them so an old key can be retired.
 */
@FunctionalInterface
public interface KeySource {

    /**
     * Loads the keys; called when the provider opens, and again for each other site's registry a factory
     * connects to (with that site's salt), possibly long after it opened: a source should answer the
     * same keys each time, as the built-in ones do (a key store's file is read once per configuration
     * built; a passphrase source derives from the salt it is given).
     *
     * @throws KeyManagementException when the keys cannot be loaded (the message never contains
     *                                key material or passwords)
     */
    KeyRing load(Context context);

    /** What a source may use from the store it serves. */
    interface Context {

        /**
         * 16 random bytes generated once per storage root and kept in the registry
         * ({@code Configuration/KeySalt}); the same on every node. Passphrase sources use it as salt.
         */
        byte[] deploymentSalt();
    }
}
