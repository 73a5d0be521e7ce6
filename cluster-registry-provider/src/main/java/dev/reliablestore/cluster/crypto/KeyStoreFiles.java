package dev.reliablestore.cluster.crypto;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.Provider;

/**
 * Creates and rotates key store files for {@link KeySources#keyStore}: each call adds one fresh
 * random AES-256 key under a new alias (the file is created when missing and replaced atomically).
 */
public final class KeyStoreFiles {

    /** Bouncy Castle's provider, used as an object: it is never installed into the JVM's provider list. */
    static final Provider BC = new BouncyCastleProvider();

    private KeyStoreFiles() {
    }

    /**
     * Adds a new random AES-256 key under {@code alias}, creating the file when missing.
     *
     * @throws KeyManagementException when the alias exists, the password is wrong or the file cannot be written
     */
    public static void addNewKey(Path file, String type, char[] password, String alias) {
        KeyRing.checkKeyId(alias);
        String checkedType = checkType(type);
        try {
            KeyStore ks = Files.exists(file) ? load(file, checkedType, password) : newStore(checkedType);
            if (ks.containsAlias(alias)) {
                throw new KeyManagementException("key store " + file + " already has an entry \"" + alias + "\"");
            }
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(256, new SecureRandom());
            SecretKey key = generator.generateKey();
            ks.setEntry(alias, new KeyStore.SecretKeyEntry(key), new KeyStore.PasswordProtection(password));
            replace(file, ks, password);
        } catch (IOException | GeneralSecurityException e) {
            throw new KeyManagementException("cannot add key \"" + alias + "\" to key store " + file + ": " + e.getClass().getSimpleName(), e);
        }
    }

    /**
     * Writes the store to a fresh temporary file beside {@code file}, flushed to the disk, and moves it
     * into place, flushing the folder too. The
     * temporary file is created new (never an existing file or link) and, on POSIX file systems,
     * readable by its owner only: the store is password-protected, but a readable copy invites an
     * offline guess of the password.
     */
    private static void replace(Path file, KeyStore ks, char[] password) throws IOException, GeneralSecurityException {
        Path parent = file.toAbsolutePath().getParent();
        boolean posix = parent.getFileSystem().supportedFileAttributeViews().contains("posix");
        Path tmp = posix
                ? Files.createTempFile(parent, file.getFileName() + ".", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(parent, file.getFileName() + ".", ".tmp");
        try {
            try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                OutputStream out = java.nio.channels.Channels.newOutputStream(channel);
                ks.store(out, password);
                out.flush();
                // the keys on the disk before the rename: values sealed with a new key may be durable a moment later, and a
                // power loss that took the file (or left it empty) would leave them unreadable for good
                channel.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        dev.reliablestore.spi.DurableFiles.syncDirectory(parent); // the rename itself
    }

    static String checkType(String type) {
        if (type == null || type.equalsIgnoreCase("BCFKS")) {
            return "BCFKS";
        }
        if (type.equalsIgnoreCase("PKCS12")) {
            return "PKCS12";
        }
        throw new KeyManagementException("key store type \"" + type + "\" is not supported; use BCFKS or PKCS12");
    }

    static KeyStore newStore(String type) throws GeneralSecurityException, IOException {
        KeyStore ks = instance(type);
        ks.load(null, null);
        return ks;
    }

    static KeyStore load(Path file, String type, char[] password) throws GeneralSecurityException, IOException {
        KeyStore ks = instance(type);
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password);
        }
        return ks;
    }

    private static KeyStore instance(String type) throws GeneralSecurityException {
        return type.equals("BCFKS") ? KeyStore.getInstance("BCFKS", BC) : KeyStore.getInstance("PKCS12");
    }
}
