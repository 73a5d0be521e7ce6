package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * zstd dictionaries are trained from the plaintext JSON of the entities: in an encrypted store they
 * must not reach the registry in clear, or the registry holds the very text encryption protects.
 */
class DictionaryConfidentialityTest {

    static final String SECRET = "diagnosis-Zx81-confidential";
    static final RegistryPath DICTIONARIES = RegistryPath.parse(EmbeddedFixture.GROUP + "/" + EmbeddedFixture.KEY_PATH
            + "/Configuration/Dictionaries/Customer");

    @TempDir
    Path dir;

    @Test
    void aTrainedDictionaryOfAnEncryptedStoreHoldsNoPlaintext() throws IOException {
        ClusterPersistenceConfiguration config = EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS)
                .enableEncryption(true).passphrases(List.of("a long passphrase".toCharArray())).build();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(config, registry)) {
                train(registry, f.store(Customer.class));
            }
            try (StoreFactory other = ClusterStoreFactory.onRegistry(config, registry)) {
                assertThat(other.store(Customer.class).get("after").orElseThrow().value().notes()).contains(SECRET + " 5");
            }
        }
        assertThat(registryFilesContain(dir, SECRET)).as("plaintext of entities in the registry files").isFalse();
    }

    /**
     * A check with a new key ring (the CLI's verify, before a rotation) reads everything and writes
     * nothing: an application's factory would reseal the dictionaries under the new key, and nodes
     * that only have the old one could no longer read the values compressed with them.
     */
    @Test
    void aFactoryOpenedForCheckingReadsWithANewKeyRingWithoutResealingTheDictionaries() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            TrainedUnderOldKey trained = trainUnderOldKey(registry);
            try (StoreFactory check = ClusterStoreAdmin.openForChecking(rotated(), registry)) {
                assertThat(check.store(Customer.class).get("after").orElseThrow().value().notes()).contains(SECRET + " 5");
            }
            assertThat(sealedUnder(registry)).isEqualTo(trained.oldKey());
            assertThat(dictionary(registry)).isEqualTo(trained.dictionary());
        }
    }

    /**
     * A store refused because its type was written with another codec changes nothing: its
     * dictionaries stay sealed under the key they were (a reseal under a key some nodes lack yet
     * would make them skip the dictionaries, and every value compressed with them unreadable there).
     */
    @Test
    void aStoreRefusedForItsCodecLeavesTheTypesDictionariesSealedAsTheyWere() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            TrainedUnderOldKey trained = trainUnderOldKey(registry);
            try (StoreFactory other = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(NEW_PASS, OLD_PASS))
                    .codec(new dev.reliablestore.tck.TestCodecs.PlainText()).build(), registry)) {
                assertThatThrownBy(() -> other.store("Customer", String.class)).isInstanceOf(dev.reliablestore.codec.CodecMismatchException.class);
            }
            assertThat(sealedUnder(registry)).isEqualTo(trained.oldKey());
            assertThat(dictionary(registry)).isEqualTo(trained.dictionary());
        }
    }

    /**
     * Another site's shipper, and a `sites resync`, open that site's values with their own key ring: reading the
     * site's dictionaries must not reseal them under that ring's active key, which the site's own nodes may not
     * have yet (the first round of a rotation), or every value compressed with them would become unreadable there.
     */
    @Test
    void anotherSitesLinkReadsItsDictionariesWithoutResealingThem() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            TrainedUnderOldKey trained = trainUnderOldKey(registry);
            dev.reliablestore.cluster.geo.SiteReplication.Site site = SiteLinks.site(rotated(), "other", registry, Runnable::run);
            ClusterStoreAdmin admin = ClusterStoreAdmin.of(registry, DICTIONARIES.parent().parent().parent());
            int opened = 0;
            for (ClusterStoreAdmin.StoredEntity e : admin.entities("Customer")) {
                site.envelopes().open("Customer", e.id(), e.version(), e.envelope());
                opened++;
            }
            assertThat(opened).isPositive();
            assertThat(sealedUnder(registry)).as("still under the key the site's nodes have").isEqualTo(trained.oldKey());
            assertThat(dictionary(registry)).isEqualTo(trained.dictionary());
        }
    }

    /**
     * A training whose dictionary cannot be stored (the registry refuses or cannot be reached) waits for twice as
     * many new samples before the next: left as they were, every later save started another training over one more
     * sample, each keeping a copy of a value, for as long as the failure lasted.
     */
    @Test
    void aTrainingThatCannotStoreItsDictionaryIsNotRetriedAtEverySave() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
            ClusterRegistry failing = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(ClusterRegistry.class.getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().startsWith("commit") && args[0] instanceof WriteBatch b
                                && b.commands().stream().anyMatch(c -> c.toString().contains("Dictionaries"))) {
                            refused.incrementAndGet();
                            throw new dev.reliablestore.registry.RegistryUnavailableException("dictionaries refused (test)", null);
                        }
                        try {
                            return method.invoke(registry, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(OLD_PASS)).maxRetries(0).build(), failing)) {
                EntityStore<Customer> s = f.store(Customer.class);
                for (int i = 0; i < DictionaryManager.SAMPLES_TO_TRAIN * 4; i++) {
                    s.save("c" + i, customer(i));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> refused.get() >= 1);
                DictionaryManager dictionaries = ((ClusterStoreFactory) f).dictionaries();
                await().atMost(Duration.ofSeconds(20)).until(() -> !dictionaries.training("Customer"));
                // 256 samples, then 512 more: at most two trainings in 1,024 saves
                assertThat(refused.get()).as("trainings whose dictionary was refused").isBetween(1, 2);
                assertThat(dictionaries.samplesHeld("Customer")).isLessThanOrEqualTo(DictionaryManager.SAMPLES_TO_TRAIN * 4);
            }
        }
    }

    /**
     * Nor does it write a type's descriptor: a site holding a type's shipped entities but not its
     * descriptor would get the checking tool's codec recorded, and the application's refused.
     */
    @Test
    void aFactoryOpenedForCheckingWritesNoTypeDescriptor() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(OLD_PASS)).build(), registry)) {
                f.store(Customer.class).save("c", Customer.of("Carol", 1));
            }
            RegistryPath type = new StorageLayout(EmbeddedFixture.config(dir).build().root()).type("Customer");
            registry.commit(WriteBatch.builder().deleteValue(type, StorageLayout.METADATA).build());
            try (StoreFactory check = ClusterStoreAdmin.openForChecking(encryptedBase().passphrases(List.of(OLD_PASS)).build(), registry)) {
                assertThat(check.store(Customer.class).get("c")).isPresent();
            }
            assertThat(registry.getValue(type, StorageLayout.METADATA)).isEmpty();
        }
    }

    private static final char[] OLD_PASS = "the old passphrase".toCharArray();
    private static final char[] NEW_PASS = "the new passphrase".toCharArray();

    /** The key id a dictionary trained under the old passphrase is sealed under, and its stored bytes. */
    private record TrainedUnderOldKey(String oldKey, byte[] dictionary) {
    }

    private ClusterPersistenceConfiguration.Builder encryptedBase() {
        return EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS).enableEncryption(true);
    }

    /** The new passphrase active, the old one still in the ring. */
    private ClusterPersistenceConfiguration rotated() {
        return encryptedBase().passphrases(List.of(NEW_PASS, OLD_PASS)).build();
    }

    private TrainedUnderOldKey trainUnderOldKey(ClusterRegistry registry) {
        try (StoreFactory f = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(OLD_PASS)).build(), registry)) {
            train(registry, f.store(Customer.class));
            return new TrainedUnderOldKey(sealedUnder(registry), dictionary(registry));
        }
    }

    @Test
    void afterARotationDictionariesMoveToTheNewKeySoTheOldOneCanBeRetired() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            TrainedUnderOldKey trained = trainUnderOldKey(registry);
            String oldKey = trained.oldKey();
            byte[] underOldKey = trained.dictionary();
            try (StoreFactory f = ClusterStoreFactory.onRegistry(rotated(), registry)) {
                @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
                ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
                String newKey = sealedUnder(registry);
                assertThat(newKey).isNotEqualTo(oldKey);
                assertThat(s.reencrypt()).isPositive();
                assertThat(s.keyUsage()).containsOnlyKeys(newKey);
                // a dictionary the reseal missed (it failed, or lost a race to a node still on the old key) is counted
                byte[] underNewKey = dictionary(registry);
                registry.commit(dev.reliablestore.registry.WriteBatch.builder()
                        .setValue(DICTIONARIES, "1", dev.reliablestore.registry.RegistryValue.binary(underOldKey)).build());
                assertThat(s.keyUsage()).as("the old key still protects a dictionary").containsEntry(oldKey, 1L);
                assertThat(ClusterStoreAdmin.of(f).keyUsage("Customer")).as("what a tool counts").isEqualTo(s.keyUsage());
                // the next store of the type this factory opens tries again
                f.store(Customer.class);
                assertThat(s.keyUsage()).containsOnlyKeys(newKey);
                assertThat(dictionary(registry)).isNotEqualTo(underOldKey).isNotEqualTo(underNewKey);
            }
            try (StoreFactory f = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(NEW_PASS)).build(), registry)) {
                assertThat(f.store(Customer.class).get("after").orElseThrow().value().notes()).contains(SECRET + " 5");
            }
            // a factory without the keys may not write the encrypted type; one that only checks opens it, its values unreadable
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).build(), registry)) {
                assertThatThrownBy(() -> f.store(Customer.class)).isInstanceOf(dev.reliablestore.api.ConfigurationException.class);
            }
            try (StoreFactory f = ClusterStoreAdmin.openForChecking(EmbeddedFixture.config(dir).build(), registry)) {
                EntityStore<Customer> s = f.store(Customer.class);
                assertThatThrownBy(() -> s.get("after")).isInstanceOf(DataIntegrityException.class);
            }
        }
    }

    @Test
    void aDictionaryStoredInClearIsSealedOnlyWithTheValuesInClear() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS)
                    .build(), registry)) {
                train(registry, f.store(Customer.class));
                assertThat(dictionary(registry)).asString(StandardCharsets.ISO_8859_1).contains(SECRET);
            }
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                    .passphrases(List.of("a long passphrase".toCharArray())).build(), registry)) {
                @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
                ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
                // in clear, it may have been planted by someone without the key: read for old values, not used for new ones
                assertThat(dictionary(registry)).asString(StandardCharsets.ISO_8859_1).contains(SECRET);
                s.save("new", customer(6));
                assertThat(EnvelopeCodec.header(registry.getValue(EncryptionTest.CUSTOMERS, "new").orElseThrow().value().data(), "new")
                        .dictionaryId()).as("compressed without the dictionary in clear").isNotEqualTo(1);
                assertThat(s.keyUsage()).containsKey("");
                // the explicit decision seals it with the values in clear, and it is used again
                assertThat(s.encryptValuesInClear()).isPositive();
                assertThat(dictionary(registry)[0]).isEqualTo(EnvelopeCodec.MAGIC);
                assertThat(dictionary(registry)).asString(StandardCharsets.ISO_8859_1).doesNotContain(SECRET);
                assertThat(s.get("after").orElseThrow().value().notes()).contains(SECRET + " 5");
                s.save("newer", customer(7));
                assertThat(EnvelopeCodec.header(registry.getValue(EncryptionTest.CUSTOMERS, "newer").orElseThrow().value().data(), "newer")
                        .dictionaryId()).isEqualTo(1);
            }
        }
    }

    /** A dictionary that stays in clear is not a silent success: the call fails after encrypting the values, and a rerun ends it. */
    @Test
    void encryptingTheValuesInClearFailsWhenADictionaryCouldNotBeSealed() {
        try (ClusterRegistry real = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).replicationMode(ReplicationMode.ASYNCHRONOUS)
                    .build(), real)) {
                train(real, f.store(Customer.class));
            }
            java.util.concurrent.atomic.AtomicBoolean refuseDictionaries = new java.util.concurrent.atomic.AtomicBoolean(true);
            ClusterRegistry registry = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().startsWith("commit") && refuseDictionaries.get() && ((WriteBatch) args[0]).commands().stream()
                                .anyMatch(c -> c.key().equals(DICTIONARIES))) {
                            throw new dev.reliablestore.registry.RegistryException("the disk is full") { };
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (StoreFactory f = ClusterStoreFactory.onRegistry(EmbeddedFixture.config(dir).enableEncryption(true)
                    .passphrases(List.of("a long passphrase".toCharArray())).build(), registry)) {
                @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
                ClusterPersistenceStore<Customer> s = f.store(Customer.class).unwrap(ClusterPersistenceStore.class);
                assertThatThrownBy(s::encryptValuesInClear).isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                        .hasMessageContaining("encrypted 1 values").hasMessageContaining("zstd dictionary 1 of Customer could not be sealed")
                        .hasMessageContaining("the disk is full");
                assertThat(s.keyUsage().values()).as("the value was encrypted all the same; the dictionary is counted in clear")
                        .containsExactly(1L, 1L);
                assertThat(s.keyUsage()).containsEntry("", 1L);
                assertThat(dictionary(real)[0]).isNotEqualTo(EnvelopeCodec.MAGIC);
                refuseDictionaries.set(false);
                assertThat(s.encryptValuesInClear()).as("nothing left but the dictionary").isZero();
                assertThat(dictionary(real)[0]).isEqualTo(EnvelopeCodec.MAGIC);
                assertThat(s.keyUsage()).doesNotContainKey("");
                assertThat(s.get("after").orElseThrow().value().notes()).contains(SECRET + " 5");
            }
        }
    }

    /**
     * Another node's factory meets a dictionary replaced by clear bytes (planted by someone without the key) when it
     * first reads a value that uses it: read, not made current; once a node seals it, the others use it again.
     */
    @Test
    void aDictionaryFirstMetInClearWhenReadingIsNotUsedForNewValuesUntilSealed() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir);
             ClusterStoreFactory a = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(OLD_PASS)).build(), registry);
             ClusterStoreFactory b = ClusterStoreFactory.onRegistry(encryptedBase().passphrases(List.of(OLD_PASS)).build(), registry)) {
            EntityStore<Customer> atA = a.store(Customer.class);
            train(registry, b.store(Customer.class));
            byte[] clear = b.dictionaries().byId("Customer", 1).bytes();
            registry.commit(dev.reliablestore.registry.WriteBatch.builder()
                    .setValue(DICTIONARIES, "1", dev.reliablestore.registry.RegistryValue.binary(clear)).build());
            assertThat(atA.get("after")).isPresent(); // A loads dictionary 1 now, in clear
            a.store(Customer.class); // and lists the type's dictionaries again
            atA.save("new", customer(6));
            assertThat(EnvelopeCodec.header(registry.getValue(EncryptionTest.CUSTOMERS, "new").orElseThrow().value().data(), "new")
                    .dictionaryId()).isNotEqualTo(1);
            @SuppressWarnings("unchecked") // unwrap knows the class, not its type argument
            ClusterPersistenceStore<Customer> atB = b.store(Customer.class).unwrap(ClusterPersistenceStore.class);
            atB.encryptValuesInClear();
            assertThat(dictionary(registry)[0]).isEqualTo(EnvelopeCodec.MAGIC);
            a.store(Customer.class);
            atA.save("newer", customer(7));
            assertThat(EnvelopeCodec.header(registry.getValue(EncryptionTest.CUSTOMERS, "newer").orElseThrow().value().data(), "newer")
                    .dictionaryId()).as("sealed by B: used at A again").isEqualTo(1);
        }
    }

    /** Saves until a dictionary is trained, then leaves one value that uses it ("after"). */
    private static void train(ClusterRegistry registry, EntityStore<Customer> s) {
        for (int i = 0; i < DictionaryManager.SAMPLES_TO_TRAIN * 4 && !registry.keyExists(DICTIONARIES); i++) {
            s.save("c" + i, customer(i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> registry.keyExists(DICTIONARIES));
        s.clear(); // one batch: keeps re-encryption in the tests to a single value
        s.save("after", customer(5));
        assertThat(EnvelopeCodec.header(registry.getValue(EncryptionTest.CUSTOMERS, "after").orElseThrow().value().data(), "after")
                .dictionaryId()).isEqualTo(1);
    }

    private static byte[] dictionary(ClusterRegistry registry) {
        return registry.getValue(DICTIONARIES, "1").orElseThrow().value().data();
    }

    private static String sealedUnder(ClusterRegistry registry) {
        return EnvelopeCodec.header(dictionary(registry), "dictionary").keyId();
    }

    static Customer customer(int i) {
        return new Customer("Customer number " + i, i % 2 == 0 ? "GOLD" : "SILVER",
                List.of(SECRET + " " + (i % 7), "account opened at branch " + (i % 7)), Instant.ofEpochSecond(1_700_000_000L + i), i);
    }

    static boolean registryFilesContain(Path root, String text) throws IOException {
        String needle = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(needle)) {
                    return true;
                }
            }
        }
        return false;
    }
}
