package dev.reliablestore.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.CodecMismatchException;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.tck.TestCodecs.Money;
import dev.reliablestore.tck.TestCodecs.PlainText;
import dev.reliablestore.tck.TestCodecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A codec per factory on the cluster-registry provider, and the codec id each type records in its
 * descriptor ({@code _metadata}): another codec is refused when the type opens, not misread, and a
 * descriptor written by main before codec ids opens with the default codec, which then records its id.
 */
class ClusterCodecTest {

    static final String MAIN_METADATA = "golden/cluster-registry/metadata-main-2026-12.json";

    record Order(String id, Money total) {
    }

    @TempDir
    Path dir;

    private ClusterPersistenceConfiguration.Builder config() {
        return EmbeddedFixture.config(dir);
    }

    /** Compression and encryption on (a passphrase costs a key derivation per factory: used once). */
    private ClusterPersistenceConfiguration.Builder sealed() {
        return config().enableCompression(true).enableEncryption(true)
                .passphrases(java.util.List.of("codec test passphrase".toCharArray()));
    }

    private RegistryPath typeKey(String type) {
        return new StorageLayout(config().build().root()).type(type);
    }

    private ObjectNode descriptor(ClusterRegistry registry, String type) throws IOException {
        byte[] bytes = registry.getValue(typeKey(type), StorageLayout.METADATA).orElseThrow().value().data();
        return (ObjectNode) JacksonEntityCodec.defaults().mapper().readTree(bytes);
    }

    @Test
    void aUsersJacksonModulesAreUsedThroughPersistenceOpenFactory() {
        Map<String, String> options = Map.of("clusterName", EmbeddedFixture.uri(dir), "resourceGroupName", EmbeddedFixture.GROUP,
                "registryKeyPath", EmbeddedFixture.KEY_PATH, "enableLocalCache", "true");
        Order order = new Order("o-1", new Money("EUR", 1234));
        try (StoreFactory f = Persistence.openFactory("cluster-registry", options, JacksonEntityCodec.withModules(TestCodecs.MONEY_AS_TEXT))) {
            EntityStore<Order> orders = f.store("Order", Order.class);
            orders.save("o-1", order);
            assertThat(orders.get("o-1").orElseThrow().value()).isEqualTo(order);
            // the module wrote the stored JSON: read back as a tree, the total is its text form
            JsonNode stored = f.store("Order", JsonNode.class).get("o-1").orElseThrow().value();
            assertThat(stored.get("total").asText()).isEqualTo("EUR:1234");
        }
    }

    @Test
    void aCodecThatIsNotJsonRoundTripsThroughCompressionAndEncryptionAndIsRecorded() throws IOException {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterPersistenceProvider.open(sealed().codec(new PlainText()).build(), registry)) {
                EntityStore<String> notes = f.store("Note", String.class);
                String text = "h\u00e9llo, " + "not JSON at all ".repeat(20);
                notes.save("n", text);
                assertThat(notes.get("n").orElseThrow().value()).isEqualTo(text);
            }
            assertThat(descriptor(registry, "Note").get(TypeDescriptor.CODEC).asText()).isEqualTo("plain-text");
            try (StoreFactory again = ClusterPersistenceProvider.open(sealed().codec(new PlainText()).build(), registry)) {
                assertThat(again.store("Note", String.class).get("n")).isPresent();
            }
        }
    }

    @Test
    void aTypeWrittenWithAnotherCodecIsRefusedAtOpenNamingBothIds() throws IOException {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory plain = ClusterPersistenceProvider.open(config().codec(new PlainText()).build(), registry)) {
                plain.store("Note", String.class).save("n", "hello");
            }
            try (StoreFactory json = ClusterPersistenceProvider.open(config().build(), registry)) {
                assertThatThrownBy(() -> json.store("Note", String.class))
                        .isInstanceOfSatisfying(CodecMismatchException.class, e -> {
                            assertThat(e.storedCodecId()).isEqualTo("plain-text");
                            assertThat(e.codecId()).isEqualTo(JacksonEntityCodec.ID);
                        })
                        .hasMessageContaining("Note").hasMessageContaining("\"plain-text\"").hasMessageContaining("\"jackson-json\"");
                // a type written with the default codec is refused to the other codec likewise
                json.store("Customer", Customer.class).save("c", Customer.of("Acme", 1));
            }
            try (StoreFactory plain = ClusterPersistenceProvider.open(config().codec(new PlainText()).build(), registry)) {
                assertThatThrownBy(() -> plain.store("Customer", String.class)).isInstanceOf(CodecMismatchException.class)
                        .hasMessageContaining("\"jackson-json\"").hasMessageContaining("\"plain-text\"");
                assertThat(plain.store("Note", String.class).get("n").orElseThrow().value()).isEqualTo("hello");
            }
        }
    }

    @Test
    void aTypeWrittenByMainBeforeCodecIdsOpensWithTheDefaultCodecWhichRecordsItsId() throws IOException {
        byte[] mainDescriptor;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(MAIN_METADATA)) {
            assertThat(in).as(MAIN_METADATA).isNotNull();
            mainDescriptor = in.readAllBytes();
        }
        ObjectNode asMainWroteIt = (ObjectNode) JacksonEntityCodec.defaults().mapper().readTree(mainDescriptor);
        assertThat(asMainWroteIt.has(TypeDescriptor.CODEC)).isFalse();
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterPersistenceProvider.open(config().build(), registry)) {
                f.store("Customer", Customer.class).save("c1", Customer.of("Acme", 5));
            }
            registry.commit(WriteBatch.builder().setValue(typeKey("Customer"), StorageLayout.METADATA,
                    RegistryValue.binary(mainDescriptor)).build());

            try (StoreFactory plain = ClusterPersistenceProvider.open(config().codec(new PlainText()).build(), registry)) {
                assertThatThrownBy(() -> plain.store("Customer", String.class)).isInstanceOf(CodecMismatchException.class)
                        .hasMessageContaining("\"jackson-json\"").hasMessageContaining("before codec ids");
            }
            assertThat(descriptor(registry, "Customer")).as("a refused open changes nothing").isEqualTo(asMainWroteIt);

            try (StoreFactory f = ClusterPersistenceProvider.open(config().build(), registry)) {
                assertThat(f.store("Customer", Customer.class).get("c1").orElseThrow().value()).isEqualTo(Customer.of("Acme", 5));
            }
            ObjectNode recorded = descriptor(registry, "Customer");
            assertThat(recorded.get(TypeDescriptor.CODEC).asText()).isEqualTo(JacksonEntityCodec.ID);
            recorded.remove(TypeDescriptor.CODEC);
            assertThat(recorded).as("everything else as main wrote it").isEqualTo(asMainWroteIt);
        }
    }

    @Test
    void aReaderThatMayNotWriteStillOpensATypeWrittenBeforeCodecIds() throws IOException {
        byte[] mainDescriptor;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(MAIN_METADATA)) {
            mainDescriptor = in.readAllBytes();
        }
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            try (StoreFactory f = ClusterPersistenceProvider.open(config().build(), registry)) {
                f.store("Customer", Customer.class).save("c1", Customer.of("Acme", 5));
            }
            registry.commit(WriteBatch.builder().setValue(typeKey("Customer"), StorageLayout.METADATA,
                    RegistryValue.binary(mainDescriptor)).build());
            // as a ZooKeeper ACL would: every write of the descriptor is refused
            ClusterRegistry readOnlyMetadata = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().equals("commit") && ((WriteBatch) args[0]).commands().stream().anyMatch(c ->
                                c instanceof dev.reliablestore.registry.BatchCommand.SetValue v && v.name().equals(StorageLayout.METADATA))) {
                            throw new dev.reliablestore.registry.RegistryException("not authorised to write the descriptor");
                        }
                        try {
                            return method.invoke(registry, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (StoreFactory f = ClusterPersistenceProvider.open(config().build(), readOnlyMetadata)) {
                assertThat(f.store("Customer", Customer.class).get("c1").orElseThrow().value()).isEqualTo(Customer.of("Acme", 5));
            }
            assertThat(descriptor(registry, "Customer").has(TypeDescriptor.CODEC)).as("not recorded, and not required").isFalse();
        }
    }

    @Test
    void aDescriptorThatIsNotJsonIsDamageNotAGuess() {
        try (ClusterRegistry registry = EmbeddedFixture.openRegistry(dir)) {
            registry.commit(WriteBatch.builder().setValue(typeKey("Customer"), StorageLayout.METADATA,
                    RegistryValue.binary("{\"codec\":".getBytes(StandardCharsets.UTF_8))).build());
            try (StoreFactory f = ClusterPersistenceProvider.open(config().build(), registry)) {
                assertThatThrownBy(() -> f.store("Customer", Customer.class)).isInstanceOf(DataIntegrityException.class)
                        .hasMessageContaining("Customer/_metadata").hasMessageContaining("codec");
            }
        }
    }
}
