package dev.reliablestore.basic;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A JSON codec of the user's own whose bytes are JSON text in an encoding the document is not (UTF-8 with a
 * byte-order mark, UTF-16, UTF-32): embedded in the UTF-8 document, the entity could never be read, updated or
 * deleted again, nor its type listed; it is stored as {@code entityBase64} and reads back byte-exact.
 */
class FileEntityEncodingTest {

    private static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final String TEXT = "h\u00e9llo \u2713 \uD834\uDD1E";

    @TempDir
    Path dir;

    /**
     * String entities as the JSON text {@code {"text":…}} in a charset, after an optional prefix (a BOM); decoding
     * refuses bytes that are not exactly that, so a read that altered the stored bytes fails.
     */
    static final class CharsetJson implements EntityCodec {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final Charset charset;
        private final byte[] prefix;

        CharsetJson(Charset charset, byte[] prefix) {
            this.charset = charset;
            this.prefix = prefix;
        }

        @Override
        public String id() {
            return "json-in-charset";
        }

        @Override
        public boolean isJson() {
            return true;
        }

        byte[] bytes(String entity) {
            try {
                byte[] text = JSON.writeValueAsString(Map.of("text", entity)).getBytes(charset);
                byte[] all = Arrays.copyOf(prefix, prefix.length + text.length);
                System.arraycopy(text, 0, all, prefix.length, text.length);
                return all;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeCodec<T> forType(Class<T> type) {
            return (TypeCodec<T>) new TypeCodec<String>() {
                @Override
                public Class<String> type() {
                    return String.class;
                }

                @Override
                public byte[] encode(String entity) {
                    return bytes(entity);
                }

                @Override
                public String decode(byte[] bytes) throws CodecException {
                    if (!Arrays.equals(bytes, 0, Math.min(prefix.length, bytes.length), prefix, 0, prefix.length)) {
                        throw new CodecException("the bytes do not start with the codec's prefix");
                    }
                    try {
                        String text = charset.newDecoder()
                                .decode(ByteBuffer.wrap(bytes, prefix.length, bytes.length - prefix.length)).toString();
                        return JSON.readTree(text).get("text").asText();
                    } catch (CharacterCodingException e) {
                        throw new CodecException("the bytes are not " + charset, e);
                    } catch (IOException e) {
                        throw new CodecException("the bytes are not the codec's JSON", e);
                    }
                }
            };
        }
    }

    private static CharsetJson codec(String encoding) {
        return switch (encoding) {
            case "UTF-8 with BOM" -> new CharsetJson(StandardCharsets.UTF_8, UTF8_BOM);
            default -> new CharsetJson(Charset.forName(encoding), new byte[0]); // Java's UTF-16 writes a BOM of its own
        };
    }

    private StoreFactory open(EntityCodec codec) {
        return Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), codec);
    }

    @ParameterizedTest
    @ValueSource(strings = {"UTF-8 with BOM", "UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"})
    void jsonInAnotherEncodingIsStoredAsBase64AndStaysReadableAndWritable(String encoding) throws IOException {
        CharsetJson codec = codec(encoding);
        try (StoreFactory file = open(codec)) {
            EntityStore<String> notes = file.store("notes", String.class);
            assertThat(notes.save("n", TEXT)).isEqualTo(1);
            assertThat(notes.saveBatch(Map.of("b", "batch " + TEXT))).containsEntry("b", 1L);
            assertThat(notes.get("n").orElseThrow().value()).isEqualTo(TEXT);
            assertThat(notes.save("n", "second " + TEXT, 1)).isEqualTo(2);
            assertThat(notes.save("m", "other")).isEqualTo(1);
            assertThat(notes.delete("m")).isTrue();
            assertThat(notes.getAll()).extracting(Versioned::id, Versioned::value, Versioned::version)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("b", "batch " + TEXT, 1L),
                            org.assertj.core.groups.Tuple.tuple("n", "second " + TEXT, 2L));
        }
        String doc = Files.readString(dir.resolve("notes/n.json"), StandardCharsets.UTF_8);
        assertThat(doc).as("the codec's bytes, byte-exact, as base64")
                .contains("\"entityBase64\":\"" + Base64.getEncoder().encodeToString(codec.bytes("second " + TEXT)) + "\"")
                .doesNotContain("\"entity\":");
        try (StoreFactory file = open(codec)) {
            EntityStore<String> notes = file.store("notes", String.class);
            assertThat(notes.get("n").orElseThrow().value()).isEqualTo("second " + TEXT);
            assertThat(notes.getAll()).hasSize(2);
            assertThat(notes.save("n", "third", 2)).isEqualTo(3);
            assertThat(notes.delete("n")).isTrue();
            assertThat(notes.delete("b")).isTrue();
            assertThat(notes.getAll()).isEmpty();
        }
    }

    @Test
    void plainUtf8JsonOfTheSameCodecIsStillEmbedded() throws IOException {
        CharsetJson codec = new CharsetJson(StandardCharsets.UTF_8, new byte[0]);
        try (StoreFactory file = open(codec)) {
            EntityStore<String> notes = file.store("notes", String.class);
            notes.save("n", TEXT);
            notes.saveBatch(Map.of("b", TEXT));
            assertThat(notes.get("n").orElseThrow().value()).isEqualTo(TEXT);
        }
        for (String id : List.of("n", "b")) {
            assertThat(Files.readString(dir.resolve("notes/" + id + ".json"), StandardCharsets.UTF_8))
                    .contains("\"entity\":{\"text\":\"" + TEXT + "\"}")
                    .doesNotContain("entityBase64");
        }
    }

    /** What the reader of a document reads as UTF-8: a byte-order mark, a NUL or malformed UTF-8 is never embedded. */
    @Test
    void onlyUtf8JsonWithoutBomIsStandardJson() {
        assertThat(FileStoreFactory.isStandardJson("{\"a\":\"\u00e9\"}".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(FileStoreFactory.isStandardJson(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'})).isFalse();
        assertThat(FileStoreFactory.isStandardJson("{}".getBytes(StandardCharsets.UTF_16LE))).isFalse();
        assertThat(FileStoreFactory.isStandardJson("1".getBytes(Charset.forName("UTF-32BE")))).isFalse();
        assertThat(FileStoreFactory.isStandardJson(new byte[] {'"', (byte) 0xC3, '"'})).as("a truncated sequence").isFalse();
        assertThat(FileStoreFactory.isStandardJson(new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}))
                .as("an encoded surrogate").isFalse();
        assertThat(FileStoreFactory.isStandardJson(new byte[] {'"', (byte) 0xC0, (byte) 0xA2, '"'})).as("an overlong").isFalse();
        assertThat(FileStoreFactory.isStandardJson(new byte[] {'1', 0})).isFalse();
    }
}
