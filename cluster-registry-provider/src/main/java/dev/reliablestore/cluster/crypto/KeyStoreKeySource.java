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
    /**
     * The keys as first read: the file is read once. A factory loads its keys again for each other site it
     * connects to (with that site's salt, which a key store ignores), maybe days after it opened; read
     * again then, a key added for the first round of a rotation would become that link's active key
     * while the other nodes may not have it.
     */
    private volatile KeyRing loaded;

    KeyStoreKeySource(Path file, String type, char[] password, String activeAlias) {
        this.file = file;
        this.type = type;
        this.password = password;
        this.activeAlias = activeAlias;
    }

    @Override
    public KeyRing load(Context context) {
        KeyRing ring = loaded;
        if (ring == null) {
            synchronized (this) {
                ring = loaded;
                if (ring == null) {
                    ring = read();
                    loaded = ring;
                }
            }
        }
        return ring;
    }

    private KeyRing read() {
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
        // every 256-bit secret key reads (an earlier version took them all, and values may be sealed under any of them); the
        // active one is the newest labelled AES unless named: an HMAC key of a shared key store is never chosen by age
        Map<String, SecretKey> keys = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        String newestAes = null;
        Date newestAesDate = null;
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (!ks.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
                    continue;
                }
                KeyStore.SecretKeyEntry entry;
                try {
                    entry = (KeyStore.SecretKeyEntry) ks.getEntry(alias, new KeyStore.PasswordProtection(password));
                } catch (GeneralSecurityException e) {
                    throw new KeyManagementException("cannot read key \"" + alias + "\" of key store " + file + ": "
                            + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")"), e);
                }
                SecretKey key = entry.getSecretKey();
                int bits = bits(key);
                if (bits != 256) {
                    skipped.put(alias, key.getAlgorithm() + ", " + (bits < 0 ? "not extractable" : bits + " bits"));
                    continue;
                }
                keys.put(alias, key);
                Date created = ks.getCreationDate(alias);
                if (labelledAes(key) && newer(alias, created, newestAes, newestAesDate)) {
                    newestAes = alias;
                    newestAesDate = created;
                }
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagementException("cannot read a key of key store " + file + ": " + e.getClass().getSimpleName(), e);
        }
        if (activeAlias != null && skipped.containsKey(activeAlias)) {
            throw new KeyManagementException("key store " + file + " entry \"" + activeAlias + "\" is not a 256-bit key ("
                    + skipped.get(activeAlias) + ")");
        }
        if (keys.isEmpty()) {
            throw new KeyManagementException("key store " + file + " holds no 256-bit secret key" + (skipped.isEmpty() ? "" : " (only "
                    + skipped + ")") + "; add one with KeyStoreFiles.addNewKey");
        }
        if (activeAlias == null && newestAes == null) {
            // only other algorithms' keys (another application's HMAC key): none is taken as the data key by its age
            throw new KeyManagementException("key store " + file + " holds no AES key, only " + keys.keySet() + "; add one with"
                    + " KeyStoreFiles.addNewKey, or name the key to encrypt with in keyStoreActiveAlias");
        }
        String active = activeAlias != null ? activeAlias : newestAes;
        if (!keys.containsKey(active)) {
            throw new KeyManagementException("key store " + file + " has no secret key \"" + active + "\"; it has " + keys.keySet());
        }
        return KeyRing.of(keys, active);
    }

    private static boolean newer(String alias, Date created, String than, Date thanDate) {
        return than == null || (created != null && thanDate != null && created.after(thanDate))
                || (created != null && created.equals(thanDate) && alias.compareTo(than) > 0);
    }

    /** The key's size in bits, -1 when it is not extractable; its bytes are wiped here. */
    private static int bits(SecretKey key) {
        byte[] encoded = key.getEncoded();
        if (encoded == null) {
            return -1;
        }
        java.util.Arrays.fill(encoded, (byte) 0);
        return encoded.length * 8;
    }

    /** "AES", a transformation such as "AES_256/GCM/NoPadding" (PKCS#12 keeps a mode's), or an AES OID (2.16.840.1.101.3.4.1.*). */
    private static boolean labelledAes(SecretKey key) {
        String a = String.valueOf(key.getAlgorithm()).toUpperCase(java.util.Locale.ROOT);
        return a.startsWith("AES") || a.startsWith("2.16.840.1.101.3.4.1");
    }

    @Override
    public String toString() {
        return "KeyStore[" + type + " " + file + (activeAlias == null ? "" : ", active=" + activeAlias) + "]";
    }
}
