package dev.reliablestore.basic;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A user's Jackson modules, or a codec of their own, per factory on the memory and file providers. */
class CustomCodecTest {

    record Money(String currency, long cents) {
    }

    record Order(String id, Money total) {
    }

    static final SimpleModule MONEY_AS_TEXT = new SimpleModule("money")
            .addSerializer(Money.class, new JsonSerializer<>() {
                @Override
                public void serialize(Money m, JsonGenerator g, SerializerProvider p) throws IOException {
                    g.writeString(m.currency() + ":" + m.cents());
                }
            })
            .addDeserializer(Money.class, new JsonDeserializer<>() {
                @Override
                public Money deserialize(JsonParser p, DeserializationContext c) throws IOException {
                    String[] parts = p.getValueAsString().split(":");
                    return new Money(parts[0], Long.parseLong(parts[1]));
                }
            });

    /** Not JSON at all: the text of a {@link String} entity as UTF-8. */
    static final class PlainText implements EntityCodec {
        @Override
        public String id() {
            return "plain-text";
        }

        @Override
        public boolean isJson() {
            return false;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeCodec<T> forType(Class<T> type) {
            if (type != String.class) {
                throw new IllegalArgumentException("plain-text stores strings only, not " + type.getName());
            }
            return (TypeCodec<T>) new TypeCodec<String>() {
                @Override
                public Class<String> type() {
                    return String.class;
                }

                @Override
                public byte[] encode(String entity) {
                    return entity.getBytes(StandardCharsets.UTF_8);
                }

                @Override
                public String decode(byte[] bytes) throws CodecException {
                    return new String(bytes, StandardCharsets.UTF_8);
                }
            };
        }
    }

    @TempDir
    Path dir;

    @Test
    void extraModulesAreUsedOnMemoryAndFile() throws IOException {
        EntityCodec codec = JacksonEntityCodec.withModules(MONEY_AS_TEXT);
        Order order = new Order("o-1", new Money("EUR", 1234));
        try (StoreFactory memory = Persistence.openFactory("memory", Map.of(), codec);
             StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), codec)) {
            for (StoreFactory f : new StoreFactory[] {memory, file}) {
                EntityStore<Order> orders = f.store("orders", Order.class);
                orders.save("o-1", order);
                assertThat(orders.get("o-1").orElseThrow().value()).isEqualTo(order);
            }
        }
        assertThat(Files.readString(dir.resolve("orders/o-1.json"))).contains("\"total\":\"EUR:1234\"");
    }

    @Test
    void aCodecThatIsNotJsonIsStoredAsBase64InTheFileDocument() throws IOException {
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), new PlainText())) {
            EntityStore<String> notes = file.store("notes", String.class);
            notes.save("n", "h\u00e9llo");
            assertThat(notes.get("n").orElseThrow().value()).isEqualTo("h\u00e9llo");
        }
        assertThat(Files.readString(dir.resolve("notes/n.json"))).contains("\"entityBase64\":\"aMOpbGxv\"");
    }

    @Test
    void aTypeWrittenWithAnotherCodecIsRefusedAtOpenNotMisread() {
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), new PlainText())) {
            file.store("notes", String.class).save("n", "hello");
        }
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> file.store("notes", String.class))
                    .isInstanceOfSatisfying(dev.reliablestore.codec.CodecMismatchException.class, e -> {
                        assertThat(e.storedCodecId()).isEqualTo("plain-text");
                        assertThat(e.codecId()).isEqualTo(JacksonEntityCodec.ID);
                    })
                    .hasMessageContaining("plain-text").hasMessageContaining(JacksonEntityCodec.ID);
        }
    }
}
