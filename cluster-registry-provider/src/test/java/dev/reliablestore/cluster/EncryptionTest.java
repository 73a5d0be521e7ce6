package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.crypto.KeySource;
import dev.reliablestore.cluster.crypto.KeySources;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EncryptionTest {

    static final String MARKER = "Top-Secret-Marker-7f3a9";
    static final RegistryPath CUSTOMERS = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/Entities/Customer");
    static final RegistryPath VERSIONS = CUSTOMERS.child(StorageLayout.VERSIONS);
    static final RegistryPath TOMBSTONES = CUSTOMERS.child(StorageLayout.TOMBSTONES);

    /**
     * The key store format of these tests. They are about what a factory does with its keys, not about the file
     * format (KeySourcesTest and SecretsHygieneTest read and write BCFKS, the default): PKCS#12, because each
     * BCFKS load or addNewKey derives its keys with PBKDF2 in pure Java, about 0.3 s apiece here, against 15 ms.
     */
    private static final String KEY_STORE_TYPE = "PKCS12";

    @TempDir
    Path dir;

    private Path keyStore(String name, String... aliases) {
        Path file = dir.resolve(name);
        for (String alias : aliases) {
            KeyStoreFiles.addNewKey(file, KEY_STORE_TYPE, "pw".toCharArray(), alias);
        }
        return file;
    }

    private static ClusterPersistenceConfiguration.Builder encrypted(ClusterPersistenceConfiguration.Builder b, Path keys) {
        return b.enableEncryption(true).keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), null);
    }

    /** A factory over the test's registry, encrypting with the keys in {@code keys}. */
    private StoreFactory openEncrypted(Path keys) {
        return ClusterPersistenceProvider.open(encrypted(EmbeddedFixture.config(dir), keys).build());
    }

    /** The Customer store's key operations (keyUsage, reencrypt). */
    @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
    private static ClusterPersistenceStore<Customer> admin(StoreFactory f) {
        return f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
    }

    private static boolean registryFilesContain(Path root, String text) throws IOException {
        byte[][] needles = {text.getBytes(StandardCharsets.UTF_8), text.getBytes(StandardCharsets.UTF_16LE)};
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String haystack = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                for (byte[] n : needles) {
                    if (haystack.contains(new String(n, StandardCharsets.ISO_8859_1))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void noPlaintextOfAStoredEntityInTheRegistryFiles() throws IOException {
        Path plainDir = dir.resolve("plain");
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(plainDir).enableCompression(false).build())) {
            f.store(Customer.class).save("c-1", Customer.of(MARKER, 1));
        }
        // the probe can see plaintext where there is some
        assertThat(registryFilesContain(plainDir, MARKER)).isTrue();

        Path secretDir = dir.resolve("secret");
        for (boolean compression : List.of(false, true)) {
            try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(secretDir).enableCompression(compression)
                    .enableEncryption(true).passphrases(List.of("a long passphrase".toCharArray())).build())) {
                EntityStore<Customer> s = f.store(Customer.class);
                for (int i = 0; i < 50; i++) {
                    s.save("c-" + compression + i, Customer.of(MARKER + " number " + i, i));
                }
                s.saveBatch(Map.of("batched", Customer.of(MARKER, 2)));
                assertThat(s.get("c-" + compression + 7).orElseThrow().value().name()).isEqualTo(MARKER + " number 7");
            }
        }
        assertThat(registryFilesContain(secretDir, MARKER)).isFalse();
        assertThat(registryFilesContain(secretDir, "PREMIUM")).isFalse();
    }

    @Test
    void tamperedMovedAndReplayedValuesAreIntegrityErrors() {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("a", Customer.of("Alice", 1));
            s.save("b", Customer.of("Bob", 2));
            VersionedValue a1 = registry.getValue(CUSTOMERS, "a").orElseThrow();
            s.save("a", Customer.of("Alice", 100));

            // a flipped ciphertext byte, written consistently with the version record
            byte[] flipped = registry.getValue(CUSTOMERS, "b").orElseThrow().value().data();
            flipped[flipped.length - 20] ^= 0x04;
            replace(registry, "b", flipped, 1);
            assertThatThrownBy(() -> s.get("b")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("authentication failed");

            // a value moved to another id
            replace(registry, "b", registry.getValue(CUSTOMERS, "a").orElseThrow().value().data(), 2);
            assertThatThrownBy(() -> s.get("b")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("authentication failed");

            // the old version of a written back: alone, with the version record kept, or with its header patched
            registry.commit(WriteBatch.builder().setValue(CUSTOMERS, "a", a1.value()).build());
            assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("not written together");
            replace(registry, "a", a1.value().data(), 2);
            assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("version 1");
            byte[] patched = a1.value().data();
            patched[10] = 2;
            replace(registry, "a", patched, 2);
            assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("authentication failed");
            assertThatThrownBy(s::getAll).isInstanceOf(DataIntegrityException.class);
        }
    }

    /**
     * UTF-8 writes {@code x\uD800} and {@code x\uDC00} as {@code x?}: sealed under that place, a value
     * of one would open at the others. Bound exactly, it opens only where it was written.
     */
    @Test
    void aValueAtAnIdWithAnUnpairedSurrogateOpensOnlyThere() {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("x\uD800", Customer.of("High", 1));
            s.save("x\uDC00", Customer.of("Low", 2));
            s.save("x?", Customer.of("Question", 3));
            byte[] high = registry.getValue(CUSTOMERS, "x\uD800").orElseThrow().value().data();
            for (String other : new String[] {"x\uDC00", "x?"}) {
                replace(registry, other, high, 1);
                assertThatThrownBy(() -> s.get(other)).as(other).isInstanceOf(DataIntegrityException.class)
                        .hasMessageContaining("authentication failed");
            }
            assertThat(s.get("x\uD800").orElseThrow().value().name()).isEqualTo("High");
        }
    }

    private static void replace(ClusterRegistry registry, String id, byte[] envelope, long version) {
        registry.commit(WriteBatch.builder().setValue(CUSTOMERS, id, RegistryValue.binary(envelope))
                .setValue(VERSIONS, id, RegistryValue.qword(version)).build());
    }

    @Test
    void theWrongKeyIsAnIntegrityError() {
        Path right = keyStore("right.p12", "k1");
        Path wrong = keyStore("wrong.p12", "k1");
        Path other = keyStore("other.p12", "k9");
        try (StoreFactory f = ClusterPersistenceProvider.open(encrypted(EmbeddedFixture.config(dir), right).build())) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        // an application's factory with them is refused at open (KeyCheckTest); a checking tool reads and reports
        for (Path keys : List.of(wrong, other)) {
            assertThatThrownBy(() -> openEncrypted(keys))
                    .isInstanceOf(dev.reliablestore.cluster.crypto.KeyMismatchException.class);
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreAdmin.openForChecking(encrypted(EmbeddedFixture.config(dir), wrong).build(), registry)) {
            assertThatThrownBy(() -> f.store(Customer.class).get("a")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("authentication failed");
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreAdmin.openForChecking(encrypted(EmbeddedFixture.config(dir), other).build(), registry)) {
            assertThatThrownBy(() -> f.store(Customer.class).get("a")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("\"k1\"").hasMessageContaining("k9");
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            // no key at all: the type is marked encrypted, so it does not even open for writing
            assertThatThrownBy(() -> f.store(Customer.class)).isInstanceOf(ConfigurationException.class).hasMessageContaining("is encrypted");
        }
    }

    @Test
    void rotationKeepsOldValuesReadableAndReencryptRetiresTheOldKey() {
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = openEncrypted(keys)) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("a", Customer.of("Alice", 1));
            s.save("b", Customer.of("Bob", 2));
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        KeyRing[] loaded = new KeyRing[1];
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.get("a").orElseThrow().value().name()).isEqualTo("Alice");
            s.save("c", Customer.of("Carol", 3));
            assertThat(s.keyUsage()).containsExactlyInAnyOrderEntriesOf(Map.of("k1", 2L, "k2", 1L));
            assertThat(s.reencrypt()).isEqualTo(2);
            assertThat(s.keyUsage()).containsExactlyInAnyOrderEntriesOf(Map.of("k2", 3L));
            assertThat(s.reencrypt()).isZero();
            assertThat(s.get("b").orElseThrow()).satisfies(v -> {
                assertThat(v.value().name()).isEqualTo("Bob");
                assertThat(v.version()).isEqualTo(1); // re-encryption keeps the version
            });
            loaded[0] = KeySources.keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), null).load(() -> new byte[16]);
        }
        // k1 retired: a key source without it still reads everything
        KeySource onlyK2 = ctx -> KeyRing.of(Map.of("k2", loaded[0].key("k2")), "k2");
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).enableEncryption(true).keySource(onlyK2).build())) {
            assertThat(f.store(Customer.class).getAll()).extracting(v -> v.value().name()).containsExactly("Alice", "Bob", "Carol");
        }
    }

    /**
     * A branch prepared under the old key holds its sealed envelope until it commits, which writes it
     * as it is: the key is still in use, so key usage counts it and re-encryption cannot retire it.
     */
    @Test
    void aPreparedTransactionKeepsItsKeyInUseUntilItEnds() {
        Path keys = keyStore("keys.p12", "k1");
        dev.reliablestore.spi.tx.TransactionId id = dev.reliablestore.spi.tx.TransactionId.of(1, new byte[] {1, 2, 3}, new byte[] {4});
        try (StoreFactory f = openEncrypted(keys)) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
            dev.reliablestore.spi.tx.TransactionBranch branch = dev.reliablestore.spi.tx.TransactionalResource.from(f).begin(id);
            branch.store(Customer.class).save("b", Customer.of("Bob", 2));
            branch.prepare();
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.keyUsage()).containsExactlyInAnyOrderEntriesOf(Map.of("k1", 2L));
            assertThat(s.reencrypt()).as("only the stored value").isEqualTo(1);
            assertThat(s.keyUsage()).as("the prepared write").containsExactlyInAnyOrderEntriesOf(Map.of("k1", 1L, "k2", 1L));
            assertThat(ClusterStoreAdmin.of(f).keyUsage("Customer")).as("what a tool counts").isEqualTo(s.keyUsage());
            dev.reliablestore.spi.tx.TransactionalResource.from(f).commitPrepared(id);
            assertThat(s.keyUsage()).as("committed as it was sealed").containsExactlyInAnyOrderEntriesOf(Map.of("k1", 1L, "k2", 1L));
            assertThat(s.reencrypt()).isEqualTo(1);
            assertThat(s.keyUsage()).containsExactly(Map.entry("k2", 2L));
        }
        // a prepared record that cannot be read (damaged, or of a newer format) needs keys nobody can tell: not "none"
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            r.commit(WriteBatch.builder().setValue(CUSTOMERS.parent().parent().child(RegistryTransactions.TRANSACTIONS),
                    "TX-not-a-token", RegistryValue.binary(new byte[] {1, 2, 3})).build());
        }
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.keyUsage()).containsExactlyInAnyOrderEntriesOf(Map.of("k2", 2L, KeyUsage.UNREADABLE_PREPARED, 1L));
        }
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            assertThat(ClusterStoreAdmin.of(r, CUSTOMERS.parent().parent()).keyUsage("Customer")).as("a tool's view without keys")
                    .containsExactlyInAnyOrderEntriesOf(Map.of("k2", 2L, KeyUsage.UNREADABLE_PREPARED, 1L));
        }
    }

    /**
     * A value that cannot be opened (damaged, or an envelope copied from another place) is left as it is and the
     * rotation goes on: stopped at it, reencrypt() left every value after it (in id order) under the old key on every
     * run, and said nothing was rewritten, though the values before it were.
     */
    @Test
    void aValueThatCannotBeOpenedDoesNotStopAReencryption() {
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = openEncrypted(keys)) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("a", Customer.of("Alice", 1));
            s.save("b", Customer.of("Bob", 2));
            s.save("c", Customer.of("Carol", 3));
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            byte[] flipped = registry.getValue(CUSTOMERS, "b").orElseThrow().value().data();
            flipped[flipped.length - 20] ^= 0x04;
            replace(registry, "b", flipped, 1);
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThatThrownBy(s::reencrypt).isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                    .satisfies(e -> assertThat(((dev.reliablestore.api.PersistenceException) e).outcomeUnknown()).isTrue())
                    .hasMessageContaining("rewrote 2 values").hasMessageContaining("left 1 as it was")
                    .hasCauseInstanceOf(dev.reliablestore.api.DataIntegrityException.class);
            assertThat(s.keyUsage()).as("a and c under the new key, b as it was")
                    .containsExactlyInAnyOrderEntriesOf(Map.of("k1", 1L, "k2", 2L));
        }
    }

    /**
     * A merge a site owes (crossSiteConflicts = Merge) keeps the losing write sealed in its marker, and it can wait
     * without limit for a process that can merge: the marker's key stays in use, or removing the key at a zero count
     * would lose that write for good.
     */
    @Test
    void aMergeASiteOwesKeepsItsKeyInUse() {
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = openEncrypted(keys)) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        KeyRing k1 = KeySources.keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), null).load(() -> new byte[16]);
        RegistryPath root = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH);
        EnvelopeCodec paris = new EnvelopeCodec(root.toString(), true, null, k1, "paris");
        RegistryPath owed = dev.reliablestore.cluster.geo.SiteReplication.mergesKey(new StorageLayout(root)).child("Customer");
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            r.commit(WriteBatch.builder().setValue(owed, "a@tokyo", RegistryValue.binary(
                    paris.sealRecord("Customer", "merge", "a@tokyo", "{\"name\":\"Bob\"}".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3, 4})))
                    .build());
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.reencrypt()).isEqualTo(1);
            assertThat(s.keyUsage()).as("the owed merge's marker").containsExactlyInAnyOrderEntriesOf(Map.of("k1", 1L, "k2", 1L));
            assertThat(ClusterStoreAdmin.of(f).keyUsage("Customer")).as("what a tool counts").isEqualTo(s.keyUsage());
        }
    }

    @Test
    void reencryptKeepsStampsAndSitesAndRewritesTombstonesToo() {
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = openEncrypted(keys)) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        // the value as a site of a multi-site store holds it: stamped and bound to its site
        KeyRing k1 = KeySources.keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), null).load(() -> new byte[16]);
        String root = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH).toString();
        EnvelopeCodec paris = new EnvelopeCodec(root, true, null, k1, "paris");
        byte[] stamp = {1, 2, 3, 4};
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            long version = r.getValue(VERSIONS, "a").orElseThrow().value().asQword();
            byte[] json = paris.decode("Customer", "a", version, r.getValue(CUSTOMERS, "a").orElseThrow().value().asBinary());
            r.commit(WriteBatch.builder().setValue(CUSTOMERS, "a", RegistryValue.binary(paris.encode("Customer", "a", version, json, stamp).envelope()))
                    .setValue(VERSIONS, "a", RegistryValue.qword(version))
                    // and a deleted entity's tombstone
                    .setValue(TOMBSTONES, "b", RegistryValue.binary(paris.encode("Customer", "b", StorageLayout.TOMBSTONE_VERSION, new byte[0],
                            stamp).envelope())).build());
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.get("a").orElseThrow().value().name()).as("a store without sites reads a stamped value").isEqualTo("Alice");
            assertThat(s.get("b")).isEmpty();
            assertThat(s.keyUsage()).containsExactly(Map.entry("k1", 2L));
            assertThat(s.reencrypt()).as("the value and the tombstone").isEqualTo(2);
            assertThat(s.keyUsage()).containsExactly(Map.entry("k2", 2L));
            assertThat(s.get("a").orElseThrow().value().name()).isEqualTo("Alice");
        }
        try (ClusterRegistry r = EmbeddedFixture.openRegistry(dir)) {
            EnvelopeCodec.Header h = EnvelopeCodec.header(r.getValue(CUSTOMERS, "a").orElseThrow().value().asBinary(), "a");
            assertThat(h.keyId()).isEqualTo("k2");
            assertThat(h.site()).isEqualTo("paris");
            assertThat(h.stamp()).isEqualTo(stamp);
            EnvelopeCodec.Header t = EnvelopeCodec.header(r.getValue(TOMBSTONES, "b").orElseThrow().value().asBinary(), "b");
            assertThat(t.keyId()).isEqualTo("k2");
            assertThat(t.site()).isEqualTo("paris");
            assertThat(t.stamp()).isEqualTo(stamp);
        }
    }

    @Test
    void encryptionSwitchedOnLaterIsCompletedByEncryptValuesInClear() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.keyUsage()).containsExactly(Map.entry("", 1L));
            assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("encryptValuesInClear()");
            assertThat(s.reencrypt()).as("a value in clear is not another key's").isZero();
            assertThat(s.encryptValuesInClear()).isEqualTo(1);
            assertThat(s.get("a").orElseThrow().value().name()).isEqualTo("Alice");
            assertThat(s.keyUsage()).containsExactly(Map.entry("k1", 1L));
        }
    }

    /**
     * A node started without its encryption options must not write an encrypted type: its values would be in clear, and
     * every node with the keys would refuse them. A type is marked when a factory that encrypts creates it, or when a
     * re-encryption finds encrypted values in it (one encrypted before the mark existed).
     */
    @Test
    void aFactoryWithEncryptionOffCannotOpenAnEncryptedTypeForWriting() throws Exception {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                f.store(Customer.class).save("a", Customer.of("Alice", 1));
            }
            byte[] stored = registry.getValue(CUSTOMERS, "a").orElseThrow().value().data();
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThatThrownBy(() -> keyless.store(Customer.class)).isInstanceOf(ConfigurationException.class)
                        .hasMessageContaining("entity type Customer").hasMessageContaining("is encrypted")
                        .hasMessageContaining("enableEncryption=true");
                keyless.store(Note.class).save("o", new Note("in clear")); // a type never encrypted opens as before
            }
            assertThat(registry.getValue(CUSTOMERS, "a").orElseThrow().value().data()).isEqualTo(stored);
            // a type encrypted before the mark: opening it with keys does not mark it (a tool given keys by mistake must not
            // lock a store in clear away from its application), a re-encryption does
            unmarkEncrypted(registry);
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                keyless.store(Customer.class);
            }
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                assertThat(f.store(Customer.class).get("a").orElseThrow().value().name()).isEqualTo("Alice");
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                keyless.store(Customer.class);
            }
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                ClusterPersistenceStore<Customer> s = admin(f);
                assertThat(s.reencrypt()).isZero(); // nothing under an older key, but encrypted values were found
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThatThrownBy(() -> keyless.store(Customer.class)).isInstanceOf(ConfigurationException.class);
            }
            // a type in clear opened with keys by mistake stays open to its application
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                keyless.store(Note.class).save("n", new Note("in clear"));
            }
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                EntityStore<Note> notes = f.store(Note.class);
                assertThatThrownBy(() -> notes.get("n")).isInstanceOf(DataIntegrityException.class);
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThat(keyless.store(Note.class).get("n").orElseThrow().value().text()).isEqualTo("in clear");
            }
        }
    }

    /**
     * A site receives a type's entities without its descriptor: whoever opens it first must not decide. A tool with keys
     * (by mistake) creates it unmarked; the first encrypted save marks it, whoever created it.
     */
    @Test
    void theFirstOpenerOfATypeWithoutDescriptorDoesNotDecideItsMark() {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                keyless.store(Note.class).save("n", new Note("in clear"));
            }
            RegistryPath notes = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/Entities/Note");
            registry.commit(WriteBatch.builder().deleteValue(notes, StorageLayout.METADATA).build());
            try (StoreFactory keyed = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                EntityStore<Note> s = keyed.store(Note.class);
                assertThatThrownBy(() -> s.get("n")).isInstanceOf(DataIntegrityException.class);
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThat(keyless.store(Note.class).get("n").orElseThrow().value().text()).isEqualTo("in clear");
            }
            try (StoreFactory keyed = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                keyed.store(Note.class).save("sealed", new Note("encrypted"));
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThatThrownBy(() -> keyless.store(Note.class)).isInstanceOf(ConfigurationException.class);
            }
        }
    }

    /** Encrypted values saved inside a transaction mark their type too, one-phase and two-phase alike. */
    @Test
    void aTransactionThatSavesEncryptedValuesMarksTheirTypes() {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (ClusterStoreFactory keyed = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                keyed.store(Customer.class); // both descriptors in place and unmarked, as a store opened before any save leaves them
                keyed.store(Note.class);
                dev.reliablestore.spi.tx.TransactionBranch onePhase = keyed.begin(dev.reliablestore.spi.tx.TransactionId.of(1, "g1", "b"));
                onePhase.store("Customer", Customer.class).save("a", Customer.of("Alice", 1));
                onePhase.commitOnePhase();
                dev.reliablestore.spi.tx.TransactionBranch twoPhase = keyed.begin(dev.reliablestore.spi.tx.TransactionId.of(1, "g2", "b"));
                twoPhase.store("Note", Note.class).save("n", new Note("sealed"));
                twoPhase.prepare();
                twoPhase.commit();
            }
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThatThrownBy(() -> keyless.store(Customer.class)).isInstanceOf(ConfigurationException.class);
                assertThatThrownBy(() -> keyless.store(Note.class)).isInstanceOf(ConfigurationException.class);
            }
        }
    }

    record Note(String text) {
    }

    /** Takes the "encrypted" member out of the Customer type's descriptor, as a descriptor written before it looks. */
    private static void unmarkEncrypted(ClusterRegistry registry) throws java.io.IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode descriptor = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                registry.getValue(CUSTOMERS, StorageLayout.METADATA).orElseThrow().value().data());
        assertThat(descriptor.get(TypeDescriptor.ENCRYPTED).booleanValue()).isTrue();
        descriptor.remove(TypeDescriptor.ENCRYPTED);
        registry.commit(WriteBatch.builder().setValue(CUSTOMERS, StorageLayout.METADATA,
                dev.reliablestore.registry.RegistryValue.binary(json.writeValueAsBytes(descriptor))).build());
    }

    /** Someone who can write the registry but has no key plants a value in clear: a routine re-encryption leaves it unreadable. */
    @Test
    void aValuePlantedInClearIsNotMadeAuthenticByReencrypt() throws IOException {
        Path keys = keyStore("keys.p12", "k1");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                f.store(Customer.class).save("a", Customer.of("Alice", 1));
            }
            // someone who can write the registry can also take the type's "encrypted" mark away, then write through a factory
            // without keys
            unmarkEncrypted(registry);
            try (StoreFactory keyless = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                keyless.store(Customer.class).save("a", Customer.of("Mallory", 2));
            }
            KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encrypted(EmbeddedFixture.config(dir), keys).build(), registry)) {
                ClusterPersistenceStore<Customer> s = admin(f);
                assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("planted in clear");
                assertThat(s.reencrypt()).isZero();
                assertThatThrownBy(() -> s.get("a")).isInstanceOf(DataIntegrityException.class).hasMessageContaining("not encrypted");
                assertThat(s.keyUsage()).containsExactly(Map.entry("", 1L));
            }
        }
    }

    /** maxValueSizeKB limits saves: a value already stored above it (saved under a larger setting) is still re-sealed. */
    @Test
    void reencryptRewritesAValueStoredAboveTheCurrentSaveLimit() {
        StringBuilder name = new StringBuilder();
        java.util.Random random = new java.util.Random(3);
        while (name.length() < 150_000) {
            name.append(Long.toString(random.nextLong(), 36)); // hardly compressible: about 100 KB once encoded
        }
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = ClusterPersistenceProvider.open(encrypted(EmbeddedFixture.config(dir), keys).maxValueSizeKB(512).build())) {
            f.store(Customer.class).save("big", Customer.of(name.toString(), 1));
        }
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k2");
        try (StoreFactory f = openEncrypted(keys)) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThat(s.reencrypt()).isEqualTo(1);
            assertThat(s.keyUsage()).containsExactly(Map.entry("k2", 1L));
            assertThat(s.get("big").orElseThrow().value().name()).isEqualTo(name.toString());
        }
    }

    /**
     * A value stored in clear a few bytes under the registry's limit cannot be sealed: the others
     * are rewritten, and the failure says values were (outcome unknown), not "nothing was written".
     */
    @Test
    void aValueThatCannotBeSealedIsPassedOverAndTheFailureSaysOthersWereRewritten() {
        int limit = 1024 * 1024;
        StringBuilder random = new StringBuilder();
        java.util.Random r = new java.util.Random(5);
        while (random.length() < limit) {
            random.append(Long.toString(r.nextLong(), 36));
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).enableCompression(false).maxValueSizeKB(1024).build())) {
            EntityStore<Customer> s = f.store(Customer.class);
            s.save("a", Customer.of("Alice", 1));
            long overhead = org.assertj.core.api.Assertions.catchThrowableOfType(dev.reliablestore.api.EntityTooLargeException.class,
                    () -> s.save("b", Customer.of(random.substring(0, limit), 2))).size() - limit;
            s.save("b", Customer.of(random.substring(0, (int) (limit - overhead - 4)), 2));
            s.save("c", Customer.of("Carol", 3));
        }
        Path keys = keyStore("keys.p12", "k1");
        try (StoreFactory f = ClusterPersistenceProvider.open(encrypted(EmbeddedFixture.config(dir).enableCompression(false), keys).build())) {
            ClusterPersistenceStore<Customer> s = admin(f);
            assertThatThrownBy(s::encryptValuesInClear).isInstanceOfSatisfying(dev.reliablestore.api.PersistenceException.class,
                    e -> assertThat(e.outcomeUnknown()).isTrue())
                    .hasMessageContaining("rewrote 2 values").hasCauseInstanceOf(dev.reliablestore.api.EntityTooLargeException.class);
            assertThat(s.keyUsage()).containsExactlyInAnyOrderEntriesOf(Map.of("k1", 2L, "", 1L));
            assertThat(s.get("c").orElseThrow().value().name()).isEqualTo("Carol");
        }
    }
}
