package dev.reliablestore.cluster.crypto;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** The built-in {@link KeySource}s. */
public final class KeySources {

    private KeySources() {
    }

    /**
     * AES-256 secret-key entries of a key store file. Every secret-key entry is a key, its alias the
     * key id; the active key is {@code activeAlias} when given, otherwise the newest entry by creation
     * date (ties: the greatest alias). Create and rotate such files with {@link KeyStoreFiles}.
     *
     * @param type     {@code BCFKS} (Bouncy Castle FIPS key store, the default) or {@code PKCS12}
     * @param password the store password; the array is copied
     */
    public static KeySource keyStore(Path file, String type, char[] password, String activeAlias) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(password, "password");
        return new KeyStoreKeySource(file, KeyStoreFiles.checkType(type), password.clone(), activeAlias);
    }

    /**
     * Keys derived from passphrases: Argon2id (19 MiB, 2 passes, 1 lane) over the passphrase with the
     * storage root's random salt, then HKDF-SHA256 to the data key and to a key id
     * ({@code pp-} + 12 hex digits) that identifies the passphrase without revealing it.
     *
     * @param passphrases the current passphrase first, then older ones still needed to read values
     *                    written before a rotation; arrays are copied
     */
    public static KeySource passphrase(List<char[]> passphrases) {
        Objects.requireNonNull(passphrases, "passphrases");
        if (passphrases.isEmpty()) {
            throw new KeyManagementException("a passphrase key source needs at least one passphrase");
        }
        return new PassphraseKeySource(passphrases.stream().map(p -> Objects.requireNonNull(p, "passphrase").clone()).toList());
    }
}
