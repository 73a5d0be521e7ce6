package dev.reliablestore.cluster.crypto;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeySourcesTest {

    static final KeySource.Context SALT = () -> "0123456789abcdef".getBytes();

    @Test
    void keyStoreFilesAddKeysAndTheNewestIsActive(@TempDir Path dir) {
        for (String type : List.of("BCFKS", "PKCS12")) {
            Path file = dir.resolve("keys-" + type);
            char[] pw = "store-pw".toCharArray();
            KeyStoreFiles.addNewKey(file, type, pw, "k1");
            KeyRing one = KeySources.keyStore(file, type, pw, null).load(SALT);
            assertThat(one.activeKeyId()).isEqualTo("k1");
            KeyStoreFiles.addNewKey(file, type, pw, "k2");
            KeyRing two = KeySources.keyStore(file, type, pw, null).load(SALT);
            assertThat(two.keyIds()).containsExactlyInAnyOrder("k1", "k2");
            assertThat(two.activeKeyId()).isEqualTo("k2");
            assertThat(two.key("k1").getEncoded()).isEqualTo(one.key("k1").getEncoded());
            assertThat(KeySources.keyStore(file, type, pw, "k1").load(SALT).activeKeyId()).isEqualTo("k1");
            assertThatThrownBy(() -> KeySources.keyStore(file, type, pw, "k9").load(SALT))
                    .isInstanceOf(KeyManagementException.class).hasMessageContaining("k9");
            assertThatThrownBy(() -> KeyStoreFiles.addNewKey(file, type, pw, "k1"))
                    .isInstanceOf(KeyManagementException.class).hasMessageContaining("already");
            assertThatThrownBy(() -> KeySources.keyStore(file, type, "pw-that-must-not-leak".toCharArray(), null).load(SALT))
                    .isInstanceOf(KeyManagementException.class).hasMessageNotContaining("pw-that-must-not-leak");
            assertThat(two.toString()).contains("k1", "k2").doesNotContain(new String(two.key("k1").getEncoded()));
        }
        assertThatThrownBy(() -> KeySources.keyStore(dir.resolve("missing"), "BCFKS", new char[]{'x'}, null).load(SALT))
                .isInstanceOf(KeyManagementException.class).hasMessageContaining("does not exist");
    }

    /** A key id is written as UTF-8 in every envelope's header: one UTF-8 cannot hold would name another key there. */
    @Test
    void aKeyIdUtf8CannotHoldIsRefused() {
        javax.crypto.SecretKey key = new javax.crypto.spec.SecretKeySpec(new byte[32], "AES");
        for (String id : List.of("k\uD800", "\uDC00k", "a\uD800b")) {
            assertThatThrownBy(() -> KeyRing.of(java.util.Map.of(id, key), id)).isInstanceOf(KeyManagementException.class)
                    .hasMessageContaining("unpaired surrogate");
        }
        String paired = "k\uD83D\uDD11"; // a key emoji: a pair, which UTF-8 holds
        assertThat(KeyRing.of(java.util.Map.of(paired, key), paired).activeKeyId()).isEqualTo(paired);
    }

    /**
     * A shared key store may hold other secret keys: a newer one of another algorithm is never made active by its
     * age, though one of 256 bits still reads (an earlier version took it, and values may be sealed under it); a key
     * of another size is left out, and naming it active is refused.
     */
    @Test
    void theActiveKeyOfAKeyStoreIsItsNewestAesKeyUnlessNamed(@TempDir Path dir) throws Exception {
        for (String type : List.of("BCFKS", "PKCS12")) {
            Path file = dir.resolve("shared-" + type);
            char[] pw = "store-pw".toCharArray();
            KeyStoreFiles.addNewKey(file, type, pw, "k1");
            java.security.KeyStore ks = KeyStoreFiles.load(file, type, pw);
            // another algorithm's key: an HMAC key of 256 bits (BCFKS stores one but Bouncy Castle cannot read it back, so DESede there)
            boolean hmac = type.equals("PKCS12");
            javax.crypto.KeyGenerator other = javax.crypto.KeyGenerator.getInstance(hmac ? "HmacSHA256" : "DESede");
            if (hmac) {
                other.init(256);
            }
            javax.crypto.KeyGenerator aes128 = javax.crypto.KeyGenerator.getInstance("AES");
            aes128.init(128);
            ks.setEntry("other", new java.security.KeyStore.SecretKeyEntry(other.generateKey()), new java.security.KeyStore.PasswordProtection(pw));
            ks.setEntry("short", new java.security.KeyStore.SecretKeyEntry(aes128.generateKey()),
                    new java.security.KeyStore.PasswordProtection(pw));
            try (java.io.OutputStream out = Files.newOutputStream(file)) {
                ks.store(out, pw);
            }
            KeyRing ring = KeySources.keyStore(file, type, pw, null).load(SALT);
            assertThat(ring.activeKeyId()).as(type).isEqualTo("k1");
            assertThat(ring.keyIds()).as(type).containsExactlyInAnyOrderElementsOf(hmac ? List.of("k1", "other") : List.of("k1"));
            assertThatThrownBy(() -> KeySources.keyStore(file, type, pw, "short").load(SALT)).isInstanceOf(KeyManagementException.class)
                    .hasMessageContaining("\"short\"").hasMessageContaining("not a 256-bit key");
        }
        // only another application's key: none is made the data key by its age; named, it is used
        Path foreign = dir.resolve("foreign-PKCS12");
        char[] pw = "store-pw".toCharArray();
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, pw);
        javax.crypto.KeyGenerator mac = javax.crypto.KeyGenerator.getInstance("HmacSHA256");
        mac.init(256);
        ks.setEntry("app-mac", new java.security.KeyStore.SecretKeyEntry(mac.generateKey()), new java.security.KeyStore.PasswordProtection(pw));
        try (java.io.OutputStream out = Files.newOutputStream(foreign)) {
            ks.store(out, pw);
        }
        assertThatThrownBy(() -> KeySources.keyStore(foreign, "PKCS12", pw, null).load(SALT)).isInstanceOf(KeyManagementException.class)
                .hasMessageContaining("holds no AES key").hasMessageContaining("keyStoreActiveAlias");
        assertThat(KeySources.keyStore(foreign, "PKCS12", pw, "app-mac").load(SALT).activeKeyId()).isEqualTo("app-mac");
        // an entry that cannot be read back is named
        Path bcfks = dir.resolve("hmac-BCFKS");
        KeyStoreFiles.addNewKey(bcfks, "BCFKS", pw, "k1");
        java.security.KeyStore b = KeyStoreFiles.load(bcfks, "BCFKS", pw);
        b.setEntry("app-mac", new java.security.KeyStore.SecretKeyEntry(mac.generateKey()), new java.security.KeyStore.PasswordProtection(pw));
        try (java.io.OutputStream out = Files.newOutputStream(bcfks)) {
            b.store(out, pw);
        }
        assertThatThrownBy(() -> KeySources.keyStore(bcfks, "BCFKS", pw, null).load(SALT)).isInstanceOf(KeyManagementException.class)
                .hasMessageContaining("\"app-mac\"");
    }

    @Test
    void keyStoreFilesAreReadableByTheirOwnerOnly(@TempDir Path dir) throws java.io.IOException {
        Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path file = dir.resolve("keys.bcfks");
        KeyStoreFiles.addNewKey(file, "BCFKS", "pw".toCharArray(), "k1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        KeyStoreFiles.addNewKey(file, "BCFKS", "pw".toCharArray(), "k2");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        // no temporary copy left beside it
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("keys.bcfks");
        }
    }

    @Test
    void passphrasesDeriveStableKeysWithIdsThatRevealNothing() {
        KeyRing a = KeySources.passphrase(List.of("correct horse".toCharArray())).load(SALT);
        KeyRing again = KeySources.passphrase(List.of("correct horse".toCharArray())).load(SALT);
        assertThat(a.activeKeyId()).startsWith("pp-").hasSize(15).isEqualTo(again.activeKeyId());
        assertThat(a.key(a.activeKeyId()).getEncoded()).isEqualTo(again.key(again.activeKeyId()).getEncoded());
        KeyRing otherSalt = KeySources.passphrase(List.of("correct horse".toCharArray())).load(() -> "fedcba9876543210".getBytes());
        assertThat(otherSalt.key(otherSalt.activeKeyId()).getEncoded()).isNotEqualTo(a.key(a.activeKeyId()).getEncoded());
        KeyRing rotated = KeySources.passphrase(List.of("battery staple".toCharArray(), "correct horse".toCharArray())).load(SALT);
        assertThat(rotated.keyIds()).hasSize(2).contains(a.activeKeyId());
        assertThat(rotated.activeKeyId()).isNotEqualTo(a.activeKeyId());
        assertThatThrownBy(() -> KeySources.passphrase(List.of(new char[0])).load(SALT)).isInstanceOf(KeyManagementException.class);
    }

    /**
     * A key store source reads its file once: a factory loads its keys again for each other site it connects to,
     * maybe days after it opened, and a key added meanwhile for the first round of a rotation must not become that
     * link's active key (the other nodes may not have it yet).
     */
    @Test
    void aKeyStoreSourceReadsItsFileOnce(@TempDir Path dir) {
        Path file = dir.resolve("once.p12");
        char[] pw = "pw".toCharArray();
        KeyStoreFiles.addNewKey(file, "PKCS12", pw, "k1");
        KeySource source = KeySources.keyStore(file, "PKCS12", pw, null);
        assertThat(source.load(SALT).activeKeyId()).isEqualTo("k1");
        KeyStoreFiles.addNewKey(file, "PKCS12", pw, "k2");
        assertThat(source.load(() -> new byte[16]).activeKeyId()).as("loaded again, for another site").isEqualTo("k1");
        assertThat(KeySources.keyStore(file, "PKCS12", pw, null).load(SALT).activeKeyId()).as("a configuration built again").isEqualTo("k2");
    }
}
