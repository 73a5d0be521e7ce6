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
        String newest = null;
        Date newestDate = null;
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (!ks.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
                    continue;
                }
                KeyStore.SecretKeyEntry entry = (KeyStore.SecretKeyEntry) ks.getEntry(alias, new KeyStore.PasswordProtection(password));
                keys.put(alias, entry.getSecretKey());
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
        if (keys.isEmpty()) {
            throw new KeyManagementException("key store " + file + " holds no secret key; add one with KeyStoreFiles.addNewKey");
        }
        String active = activeAlias != null ? activeAlias : newest;
        if (!keys.containsKey(active)) {
            throw new KeyManagementException("key store " + file + " has no secret key \"" + active + "\"; it has " + keys.keySet());
        }
        return KeyRing.of(keys, active);
    }

    @Override
    public String toString() {
        return "KeyStore[" + type + " " + file + (activeAlias == null ? "" : ", active=" + activeAlias) + "]";
    }
}
