package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.tck.TestCodecs.Money;
import dev.reliablestore.tck.TestCodecs.PlainText;
import dev.reliablestore.tck.TestCodecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A user's Jackson modules, or a codec of their own, per factory on the memory and file providers. */
class CustomCodecTest {

    record Order(String id, Money total) {
    }

    @TempDir
    Path dir;

    @Test
    void extraModulesAreUsedOnMemoryAndFile() throws IOException {
        EntityCodec codec = JacksonEntityCodec.withModules(TestCodecs.MONEY_AS_TEXT);
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

    /** A value holding NaN. */
    public record Reading(double value) {
    }

    /**
     * A Jackson codec over a mapper of the user's own may write what standard JSON cannot hold (NaN as a bare
     * token): embedded in the document, the entity could never be read, updated or deleted again.
     */
    @Test
    void anEntityAJacksonMapperWritesAsNonStandardJsonIsStoredAsBase64() throws IOException {
        EntityCodec nanAsNumber = JacksonEntityCodec.of(com.fasterxml.jackson.databind.json.JsonMapper.builder()
                .disable(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_NAN_AS_STRINGS)
                .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build());
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), nanAsNumber)) {
            EntityStore<Reading> readings = file.store("readings", Reading.class);
            readings.save("r", new Reading(Double.NaN));
            readings.save("s", new Reading(1.5));
            assertThat(readings.get("r").orElseThrow().value().value()).isNaN();
            assertThat(readings.save("r", new Reading(2.5))).isEqualTo(2);
            assertThat(readings.delete("r")).isTrue();
        }
        assertThat(Files.readString(dir.resolve("readings/s.json"))).as("standard JSON stays embedded").contains("\"entity\":{\"value\":1.5}");
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

    /**
     * A type folder without its codec file and without documents is what a first save leaves when it
     * fails (or the machine stops) between making the folder and recording the codec: nothing was
     * written with any codec, so the type opens with whichever the factory has.
     */
    @Test
    void anEmptyTypeFolderWithoutACodecFileOpensWithAnyCodec() throws IOException {
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), new PlainText())) {
            file.store("notes", String.class).save("n", "hello");
        }
        Files.delete(dir.resolve("notes/n.json"));
        Files.delete(dir.resolve("notes/.codec"));
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()), new PlainText())) {
            EntityStore<String> notes = file.store("notes", String.class);
            assertThat(notes.save("m", "again")).isEqualTo(1);
        }
        try (StoreFactory file = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> file.store("notes", String.class))
                    .as("the codec is recorded by the save that wrote a document")
                    .isInstanceOf(dev.reliablestore.codec.CodecMismatchException.class);
        }
    }
}
