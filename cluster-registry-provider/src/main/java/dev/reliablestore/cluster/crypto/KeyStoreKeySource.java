package dev.reliablestore.cluster.crypto;

import javax.crypto.SecretKey;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

/** Keys from a BCFKS / PKCS#12 file. */
final class KeyStoreKeySource implements KeySource {

    private final Path file;
    private final String type;
    private final char[] password;
    private final String activeAlias;

    KeyStoreKeySource(Path file, String type, char[] password, String activeAlias) {
        this.file = file;
        this.type = type;
        this.password = password;
        this.activeAlias = activeAlias;
    }

    @Override
    public KeyRing load(Context context) {
        KeyStore ks;
        try {
            ks = KeyStoreFiles.load(file, type, password);
        } catch (NoSuchFileException e) {
            throw new KeyManagementException("key store file " + file + " does not exist");
        } catch (IOException e) {
            // a wrong password surfaces as an IOException whose cause is UnrecoverableKeyException
            boolean badPassword = e.getCause() instanceof UnrecoverableKeyException
                    || String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("password")
                    || String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("mac");
            throw new KeyManagementException("cannot read " + type + " key store " + file
                    + (badPassword ? ": wrong password or damaged file" : ": " + e.getClass().getSimpleName()), e);
        } catch (GeneralSecurityException e) {
            throw new KeyManagementException("cannot read " + type + " key store " + file + ": " + e.getClass().getSimpleName(), e);
        }
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        Map<String, String> others = new LinkedHashMap<>();
        String newest = null;
        Date newestDate = null;
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (!ks.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
                    continue;
                }
                KeyStore.SecretKeyEntry entry = (KeyStore.SecretKeyEntry) ks.getEntry(alias, new KeyStore.PasswordProtection(password));
                SecretKey key = entry.getSecretKey();
                String kind = aes256(key);
                if (kind != null) {
                    // a shared key store may hold other secrets (an HMAC key, a shorter AES key): never a data key
                    others.put(alias, kind);
                    continue;
                }
                keys.put(alias, key);
                Date created = ks.getCreationDate(alias);
                if (newest == null || (created != null && newestDate != null && created.after(newestDate))
                        || (created != null && created.equals(newestDate) && alias.compareTo(newest) > 0)) {
                    newest = alias;
                    newestDate = created;
                }
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagementException("cannot read a key of key store " + file + ": " + e.getClass().getSimpleName(), e);
        }
        if (activeAlias != null && others.containsKey(activeAlias)) {
            throw new KeyManagementException("key store " + file + " entry \"" + activeAlias + "\" is not an AES-256 key ("
                    + others.get(activeAlias) + ")");
        }
        if (keys.isEmpty()) {
            throw new KeyManagementException("key store " + file + " holds no AES-256 secret key" + (others.isEmpty() ? "" : " (only "
                    + others + ")") + "; add one with KeyStoreFiles.addNewKey");
        }
        String active = activeAlias != null ? activeAlias : newest;
        if (!keys.containsKey(active)) {
            throw new KeyManagementException("key store " + file + " has no secret key \"" + active + "\"; it has " + keys.keySet());
        }
        return KeyRing.of(keys, active);
    }

    /** Null for an AES-256 key, else what it is (algorithm and size; never its bytes). */
    private static String aes256(SecretKey key) {
        byte[] encoded = key.getEncoded();
        int bits = encoded == null ? -1 : encoded.length * 8;
        if (encoded != null) {
            java.util.Arrays.fill(encoded, (byte) 0);
        }
        String algorithm = key.getAlgorithm();
        // PKCS#12 may name an AES key by its OID (2.16.840.1.101.3.4.1, and its modes below it)
        boolean aes = "AES".equalsIgnoreCase(algorithm) || algorithm != null && algorithm.startsWith("2.16.840.1.101.3.4.1");
        return aes && bits == 256 ? null : algorithm + ", " + (bits < 0 ? "not extractable" : bits + " bits");
    }

    @Override
    public String toString() {
        return "KeyStore[" + type + " " + file + (activeAlias == null ? "" : ", active=" + activeAlias) + "]";
    }
}
