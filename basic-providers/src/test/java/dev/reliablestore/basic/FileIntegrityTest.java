package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.TckValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A CRC32C per document, and the directory's format marker that says whether every document must have one. */
class FileIntegrityTest {

    record Note(String text) {
    }

    @TempDir
    Path dir;

    private StoreFactory open(boolean upgrade) {
        return Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString(),
                FileProvider.UPGRADE_FORMAT, Boolean.toString(upgrade)));
    }

    @Test
    void aFlippedByteInADocumentIsADataIntegrityExceptionNamingTheFile() throws IOException {
        Path file = dir.resolve("notes/n.json");
        try (StoreFactory f = open(false)) {
            EntityStore<Note> notes = f.store("notes", Note.class);
            notes.save("n", new Note("hello"));
            byte[] doc = Files.readAllBytes(file);
            int at = new String(doc, StandardCharsets.US_ASCII).indexOf("hello") + 4;
            doc[at] ^= 0x01; // "hello" becomes "helln": still valid JSON, still a Note
            Files.write(file, doc);
            assertThatThrownBy(() -> notes.get("n")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("CRC32C");
        }
    }

    /** A kill -9 while the format marker of a new directory was written leaves its temporary file: the next open goes on. */
    @Test
    void aCrashWhileTheFormatMarkerWasWrittenDoesNotFailTheNextOpen() throws IOException {
        Files.write(dir.resolve(FileStoreFactory.TEMP_PREFIX + "format"), new byte[] {'{'});
        try (StoreFactory f = open(false)) {
            f.store("notes", Note.class).save("n", new Note("hello"));
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).exists();
        assertThat(dir.resolve(FileStoreFactory.TEMP_PREFIX + "format")).doesNotExist();
    }

    @Test
    void aNewDirectoryRequiresChecksumsFromTheStart() throws IOException {
        try (StoreFactory f = open(false)) {
            f.store("notes", Note.class).save("n", new Note("hello"));
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).exists();
        Path file = dir.resolve("notes/n.json");
        String doc = Files.readString(file);
        Files.writeString(file, doc.substring(0, doc.indexOf(",\"crc32c\"")) + "}\n");
        try (StoreFactory f = open(false)) {
            assertThatThrownBy(() -> f.store("notes", Note.class).get("n")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("no CRC32C");
        }
    }

    @Test
    void aDirectoryWrittenBeforeChecksumsIsReadUntilUpgradedAndTheUpgradeAddsThem() throws IOException {
        Path file = dir.resolve("values/sample.json");
        Files.createDirectories(file.getParent());
        byte[] legacy;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(FileGoldenFilesTest.MAIN_BEFORE_ISSUE_16)) {
            legacy = in.readAllBytes();
        }
        Files.write(file, legacy);
        try (StoreFactory f = open(false)) {
            assertThat(f.store("values", TckValues.class).get("sample")).isPresent();
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).doesNotExist();
        assertThat(Files.readAllBytes(file)).isEqualTo(legacy);

        try (StoreFactory f = open(true)) {
            assertThat(f.store("values", TckValues.class).get("sample").orElseThrow().value().decimals())
                    .isEqualTo(TckValues.edgeDecimals());
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).exists();
        assertThat(Files.readString(file)).contains("\"crc32c\":");

        Files.write(file, legacy); // once upgraded, a document without a checksum is damage
        try (StoreFactory f = open(false)) {
            assertThatThrownBy(() -> f.store("values", TckValues.class).get("sample"))
                    .isInstanceOf(DataIntegrityException.class).hasMessageContaining("no CRC32C");
        }
    }

    @Test
    void theUpgradeOptionIsTrueOrFalse() {
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString(),
                FileProvider.UPGRADE_FORMAT, "yes"))).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(FileProvider.UPGRADE_FORMAT).hasMessageContaining("yes");
    }
}
