package dev.reliablestore.tck;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.reliablestore.codec.EntityCodec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What the codec tests of every provider and the CLI plug in: a user's Jackson module, and a codec
 * of a user's own that is not JSON.
 */
public final class TestCodecs {

    private TestCodecs() {
    }

    /** A value with a custom Jackson representation. */
    public record Money(String currency, long cents) {
    }

    /** A user's module: {@link Money} as the text {@code "EUR:1234"} instead of an object. */
    public static final SimpleModule MONEY_AS_TEXT = new SimpleModule("money")
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

    /** Not JSON at all: the text of a {@link String} entity as UTF-8; id {@code plain-text}. */
    public static final class PlainText implements EntityCodec {
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
                public String decode(byte[] bytes) {
                    return new String(bytes, StandardCharsets.UTF_8);
                }
            };
        }
    }
}
