package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.crypto.KeyMismatchException;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.crypto.KeySources;
import dev.reliablestore.cluster.crypto.KeyStoreFiles;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Configuration/KeyCheck: a factory whose keys are not the store's is refused at open, before it writes anything. */
class KeyCheckTest {

    private static final RegistryPath CONFIGURATION = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH + "/"
            + StorageLayout.CONFIGURATION);

    /**
     * The key store format of these tests, which are about the key check record, not the file format (KeySourcesTest
     * reads and writes BCFKS, the default): PKCS#12, because each BCFKS load or addNewKey derives its keys with
     * PBKDF2 in pure Java, about 0.3 s apiece here, against 15 ms.
     */
    private static final String KEY_STORE_TYPE = "PKCS12";

    @TempDir
    Path dir;

    private ClusterPersistenceConfiguration withPassphrases(String... passphrases) {
        return EmbeddedFixture.config(dir).enableEncryption(true)
                .passphrases(Arrays.stream(passphrases).map(String::toCharArray).toList()).build();
    }

    private ClusterPersistenceConfiguration withKeyStore(String file, String... aliases) {
        Path keys = dir.resolve(file);
        for (String alias : aliases) {
            KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), alias);
        }
        return EmbeddedFixture.config(dir).enableEncryption(true).keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), null).build();
    }

    private Optional<VersionedValue> record() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            return registry.getValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE);
        }
    }

    private static String saveAndRead(ClusterPersistenceConfiguration config, String id, String name) {
        try (StoreFactory f = ClusterPersistenceProvider.open(config)) {
            EntityStore<Customer> s = f.store(Customer.class);
            if (id != null) {
                s.save(id, Customer.of(name, 1));
            }
            return s.getAll().stream().map(v -> v.value().name()).sorted().toList().toString();
        }
    }

    @Test
    void aWrongPassphraseIsRefusedAtOpenNamingKeyIdsOnlyAndWritesNothing() {
        saveAndRead(withPassphrases("right horse battery"), "a", "Alice");
        VersionedValue before = record().orElseThrow();
        String rightId = KeySources.passphrase(List.of("right horse battery".toCharArray())).load(() -> salt()).activeKeyId();
        String wrongId = KeySources.passphrase(List.of("wrong horse battery".toCharArray())).load(() -> salt()).activeKeyId();

        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withPassphrases("wrong horse battery")))
                .isInstanceOf(KeyMismatchException.class)
                .hasMessageContaining("none of the keys given").hasMessageContaining(wrongId).hasMessageContaining(rightId)
                .hasMessageContaining("previousPassphrases").hasMessageContaining("nothing was written")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("horse"));

        assertThat(record().orElseThrow()).isEqualTo(before);
        assertThat(saveAndRead(withPassphrases("right horse battery"), null, null)).isEqualTo("[Alice]");
    }

    @Test
    void aKeyStoreWithTheSameAliasButAnotherKeyIsRefused() {
        saveAndRead(withKeyStore("right.p12", "k1"), "a", "Alice");
        VersionedValue before = record().orElseThrow();
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withKeyStore("wrong.p12", "k1")))
                .isInstanceOf(KeyMismatchException.class)
                .hasMessageContaining("key \"k1\" is not the key the store").hasMessageContaining("nothing was written");
        assertThat(record().orElseThrow()).isEqualTo(before);
        // the wrong k1 is refused even beside a new key: values sealed under k1 would be unreadable
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withKeyStore("wrong.p12", "k2")))
                .isInstanceOf(KeyMismatchException.class).hasMessageContaining("key \"k1\"");
        assertThat(record().orElseThrow()).isEqualTo(before);
    }

    @Test
    void aNewKeyIsAcceptedBesideOneTheStoreKnowsAndThenAlone() {
        saveAndRead(withPassphrases("first passphrase"), "a", "Alice");
        // a rotation: the new passphrase with the old one as previous
        assertThat(saveAndRead(withPassphrases("second passphrase", "first passphrase"), "b", "Bob")).isEqualTo("[Alice, Bob]");
        // both are recorded now: each opens alone (the old one cannot read Bob, but it is a key of this store)
        try (StoreFactory f = ClusterPersistenceProvider.open(withPassphrases("second passphrase"))) {
            assertThat(f.store(Customer.class).get("b").orElseThrow().value().name()).isEqualTo("Bob");
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(withPassphrases("first passphrase"))) {
            assertThat(f.store(Customer.class).get("a").orElseThrow().value().name()).isEqualTo("Alice");
        }
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withPassphrases("third passphrase")))
                .isInstanceOf(KeyMismatchException.class);
        assertThat(KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION)).hasSize(2);
    }

    @Test
    void aStoreWithoutTheRecordTakesTheFirstKeysUnlessItHoldsValuesUnderAnotherKey() {
        saveAndRead(withPassphrases("first passphrase"), "a", "Alice");
        String firstId = KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION).keySet().iterator().next();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            // as a store written before the record existed
            registry.commit(WriteBatch.builder().deleteValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE).build());
        }
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withPassphrases("other passphrase")))
                .isInstanceOf(KeyMismatchException.class).hasMessageContaining("holds values encrypted under key \"" + firstId + "\"")
                .hasMessageContaining("nothing was written");
        assertThat(record()).isEmpty();
        assertThat(saveAndRead(withPassphrases("first passphrase"), null, null)).isEqualTo("[Alice]");
        assertThat(KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION)).containsOnlyKeys(firstId);

        // with no encrypted value to tell, the first keys are taken: nothing they could not read is stored
        Path other = dir.resolve("other");
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(other).build())) {
            f.store(Customer.class).save("c", Customer.of("Carol", 3));
        }
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(other).enableEncryption(true)
                .passphrases(List.of("any passphrase".toCharArray())).build())) {
            f.store(Customer.class).save("d", Customer.of("Dave", 4));
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(other)) {
            assertThat(registry.getValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE)).isPresent();
        }
    }

    /** Without the record, the key id of the store's values is not enough: the key under it must open one of them. */
    @Test
    void aStoreWithoutTheRecordRefusesAnEntryWithTheRightAliasAndAnotherKey() {
        saveAndRead(withKeyStore("right.p12", "k1"), "a", "Alice");
        saveAndRead(withKeyStore("right.p12"), "b", "Bob");
        forgetTheRecord();

        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withKeyStore("wrong.p12", "k1")))
                .isInstanceOf(KeyMismatchException.class)
                .hasMessageContaining("key \"k1\" does not open the values the store").hasMessageContaining("2 tried, in [Customer]")
                .hasMessageContaining("nothing was written");
        assertThat(record()).isEmpty();

        // one damaged value does not refuse the right key: the next one opens with it
        damage("a");
        try (StoreFactory f = ClusterPersistenceProvider.open(withKeyStore("right.p12"))) {
            assertThat(f.store(Customer.class).get("b").orElseThrow().value().name()).isEqualTo("Bob");
        }
        assertThat(KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION)).containsOnlyKeys("k1");
    }

    @Test
    void aStoreWithoutTheRecordWhoseValuesLookedAtAreAllDamagedRefusesEvenTheRightKey() {
        saveAndRead(withKeyStore("right.p12", "k1"), "a", "Alice");
        forgetTheRecord();
        damage("a");
        assertThatThrownBy(() -> ClusterPersistenceProvider.open(withKeyStore("right.p12")))
                .isInstanceOf(KeyMismatchException.class).hasMessageContaining("1 tried").hasMessageContaining("run verify");
        assertThat(record()).isEmpty();
    }

    /** As a store written before the record existed. */
    private void forgetTheRecord() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            registry.commit(WriteBatch.builder().deleteValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE).build());
        }
    }

    /** Flips a bit of the ciphertext of Customer {@code id}, below the provider. */
    private void damage(String id) {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            byte[] e = registry.getValue(EncryptionTest.CUSTOMERS, id).orElseThrow().value().data().clone();
            e[e.length - 20] ^= 1;
            registry.commit(WriteBatch.builder().setValue(EncryptionTest.CUSTOMERS, id, RegistryValue.binary(e)).build());
        }
    }

    /** A store without the record opened mid-rotation: the key its values are under is recorded with the new one. */
    @Test
    void theKeyAStoreWithoutTheRecordIsWrittenWithIsRecordedBesideTheNewOne() {
        saveAndRead(withPassphrases("old passphrase"), "a", "Alice");
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            registry.commit(WriteBatch.builder().deleteValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE).build());
        }
        assertThat(saveAndRead(withPassphrases("new passphrase", "old passphrase"), "b", "Bob")).isEqualTo("[Alice, Bob]");
        assertThat(KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION)).hasSize(2);
        // a node not yet rotated still opens
        try (StoreFactory f = ClusterPersistenceProvider.open(withPassphrases("old passphrase"))) {
            assertThat(f.store(Customer.class).get("a").orElseThrow().value().name()).isEqualTo("Alice");
        }
    }

    @Test
    void onlyActiveKeysAreRecordedSoOtherEntriesOfAKeyStoreAreNotEnforced() {
        Path keys = dir.resolve("keys.p12");
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k1");
        KeyStoreFiles.addNewKey(keys, KEY_STORE_TYPE, "pw".toCharArray(), "unrelated");
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).enableEncryption(true)
                .keyStore(keys, KEY_STORE_TYPE, "pw".toCharArray(), "k1").build())) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        assertThat(KeyChecks.decode(record().orElseThrow().value(), CONFIGURATION)).containsOnlyKeys("k1");
    }

    @Test
    void concurrentFirstOpensAgreeOnOneKey() throws Exception {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<String>> opens = new java.util.ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    String passphrase = i % 2 == 0 ? "even passphrase" : "odd passphrase";
                    opens.add(pool.submit(() -> {
                        try {
                            ClusterPersistenceProvider.open(withPassphrases(passphrase), registry).close();
                            return passphrase;
                        } catch (KeyMismatchException refused) {
                            return "refused";
                        }
                    }));
                }
                List<String> outcomes = new java.util.ArrayList<>();
                for (java.util.concurrent.Future<String> o : opens) {
                    outcomes.add(o.get());
                }
                // one passphrase was recorded first; both factories with it opened, both with the other were refused
                assertThat(outcomes).filteredOn(o -> o.equals("refused")).hasSize(2);
                assertThat(outcomes).filteredOn(o -> !o.equals("refused")).hasSize(2).containsOnly(outcomes.stream()
                        .filter(o -> !o.equals("refused")).findFirst().orElseThrow());
            } finally {
                pool.shutdownNow();
            }
            assertThat(KeyChecks.decode(registry.getValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE).orElseThrow().value(),
                    CONFIGURATION)).hasSize(1);
        }
    }

    @Test
    void aCheckingFactoryNeitherChecksNorRecordsKeys() {
        saveAndRead(withPassphrases("right passphrase"), "a", "Alice");
        VersionedValue before = record().orElseThrow();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             StoreFactory f = ClusterStoreAdmin.openForChecking(withPassphrases("wrong passphrase"), registry)) {
            // each value it cannot read is reported as such, which is what a checking tool is for
            assertThatThrownBy(() -> f.store(Customer.class).get("a")).isInstanceOf(DataIntegrityException.class);
        }
        assertThat(record().orElseThrow()).isEqualTo(before);
    }

    @Test
    void aFactoryWithoutEncryptionLeavesTheRecordAlone() {
        try (StoreFactory f = ClusterPersistenceProvider.open(EmbeddedFixture.config(dir).build())) {
            f.store(Customer.class).save("a", Customer.of("Alice", 1));
        }
        assertThat(record()).isEmpty();
    }

    @Test
    void aDamagedRecordIsAnIntegrityErrorAndRefusesTheOpen() {
        saveAndRead(withPassphrases("right passphrase"), "a", "Alice");
        byte[] stored = record().orElseThrow().value().data();
        for (byte[] damaged : List.of(Arrays.copyOf(stored, stored.length - 1), Arrays.copyOf(stored, stored.length + 1), new byte[] {9, 0, 0})) {
            try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
                registry.commit(WriteBatch.builder().setValue(CONFIGURATION, StorageLayout.KEY_CHECK_VALUE, RegistryValue.binary(damaged)).build());
            }
            assertThatThrownBy(() -> ClusterPersistenceProvider.open(withPassphrases("right passphrase")))
                    .isInstanceOf(DataIntegrityException.class).hasMessageContaining(StorageLayout.KEY_CHECK_VALUE);
        }
    }

    @Test
    void theRecordHoldsNoKeyMaterialAndAProofFitsOnlyItsKeyAndId() {
        KeyRing ring = KeySources.passphrase(List.of("a passphrase".toCharArray(), "an older one".toCharArray())).load(() -> new byte[16]);
        String active = ring.activeKeyId();
        String older = ring.keyIds().stream().filter(id -> !id.equals(active)).findFirst().orElseThrow();
        byte[] proof = KeyChecks.proof(active, ring.key(active));
        assertThat(KeyChecks.matches(active, ring.key(active), proof)).isTrue();
        assertThat(KeyChecks.matches(active, ring.key(older), proof)).isFalse();
        assertThat(KeyChecks.matches(older, ring.key(active), proof)).isFalse();
        byte[] key = ring.key(active).getEncoded();
        String haystack = new String(KeyChecks.encode(new java.util.LinkedHashMap<>(java.util.Map.of(active, proof))), StandardCharsets.ISO_8859_1);
        for (int i = 0; i + 8 <= key.length; i++) {
            assertThat(haystack).doesNotContain(new String(key, i, 8, StandardCharsets.ISO_8859_1));
        }
    }

    private byte[] salt() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            return registry.getValue(CONFIGURATION, StorageLayout.KEY_SALT_VALUE).orElseThrow().value().data();
        }
    }
}
