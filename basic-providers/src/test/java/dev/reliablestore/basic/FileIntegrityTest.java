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
import static org.assertj.core.api.Assertions.catchThrowable;

/** A CRC32C per document, and the directory's format marker that says whether every document must have one. */
class FileIntegrityTest {

    record Note(String text) {
    }

    /** An entity whose JSON ends with a short string member named like the document's checksum. */
    record Attachment(String name, String crc32c) {
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

    /** Its entity's last member looks like the document's checksum, but is the entity's own. */
    @Test
    void aDocumentWrittenBeforeChecksumsWhoseEntityEndsWithACrc32cMemberIsReadAndUpgraded() throws IOException {
        Path file = dir.resolve("attachments/a.json");
        Files.createDirectories(file.getParent());
        byte[] legacy = "{\"format\":1,\"type\":\"attachments\",\"id\":\"a\",\"version\":1,\"entity\":{\"name\":\"x.pdf\",\"crc32c\":\"1a2b3c4d\"}}\n"
                .getBytes(StandardCharsets.UTF_8);
        Files.write(file, legacy);
        Attachment expected = new Attachment("x.pdf", "1a2b3c4d");
        try (StoreFactory f = open(false)) {
            EntityStore<Attachment> attachments = f.store("attachments", Attachment.class);
            assertThat(attachments.get("a").orElseThrow().value()).isEqualTo(expected);
            assertThat(attachments.getAll()).extracting(v -> v.value()).containsExactly(expected);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(legacy);

        try (StoreFactory f = open(true)) {
            assertThat(f.store("attachments", Attachment.class).get("a").orElseThrow().value()).isEqualTo(expected);
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).exists();
        String upgraded = Files.readString(file);
        assertThat(upgraded).startsWith(new String(legacy, 0, legacy.length - 2, StandardCharsets.UTF_8) + ",\"crc32c\":\"")
                .endsWith("\"}\n");
        try (StoreFactory f = open(false)) { // the marker is there now: the document must pass its own checksum
            assertThat(f.store("attachments", Attachment.class).get("a").orElseThrow().value()).isEqualTo(expected);
        }
    }

    /** In a directory not yet upgraded, a checksum damaged out of the writer's shape is still damage, not a legacy document. */
    @Test
    void aDamagedChecksumEndIsStillFoundInADirectoryWrittenBeforeChecksums() throws IOException {
        Path legacy = dir.resolve("values/sample.json");
        Files.createDirectories(legacy.getParent());
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(FileGoldenFilesTest.MAIN_BEFORE_ISSUE_16)) {
            Files.write(legacy, in.readAllBytes());
        }
        Path file = dir.resolve("notes/n.json");
        try (StoreFactory f = open(false)) {
            f.store("notes", Note.class).save("n", new Note("hello"));
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).doesNotExist();
        String written = Files.readString(file);
        for (String damaged : new String[] {written.substring(0, written.length() - 1),
                written.substring(0, written.length() - 4) + "g\"}\n", written.substring(0, written.length() - 3) + "\"}}\n"}) {
            Files.writeString(file, damaged);
            try (StoreFactory f = open(false)) {
                assertThatThrownBy(() -> f.store("notes", Note.class).get("n")).as(damaged)
                        .isInstanceOf(DataIntegrityException.class)
                        .hasMessageContaining(file.toString()).hasMessageContaining("CRC32C");
            }
        }
    }

    /** A damaged document met by the upgrade is damage, not a passing outage, and the upgrade leaves every file as it was. */
    @Test
    void anUpgradeThatMeetsAMalformedDocumentIsADataIntegrityExceptionAndChangesNothing() throws IOException {
        Path values = dir.resolve("values");
        Files.createDirectories(values);
        byte[] legacy;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(FileGoldenFilesTest.MAIN_BEFORE_ISSUE_16)) {
            legacy = in.readAllBytes();
        }
        Path good = values.resolve("a.json"); // sorted before the bad one: the upgrade meets it first
        Files.write(good, new String(legacy, StandardCharsets.UTF_8).replace("\"id\":\"sample\"", "\"id\":\"a\"")
                .getBytes(StandardCharsets.UTF_8));
        byte[] goodBefore = Files.readAllBytes(good);
        Path bad = values.resolve("bad.json");
        Files.writeString(bad, "{\"format\":1,\"ty");

        assertThatThrownBy(() -> open(true).close()).isInstanceOf(DataIntegrityException.class)
                .hasMessageContaining(bad.toString())
                .satisfies(e -> assertThat(((DataIntegrityException) e).isRetryable()).isFalse());

        assertThat(Files.readAllBytes(good)).isEqualTo(goodBefore);
        assertThat(Files.readString(bad)).isEqualTo("{\"format\":1,\"ty");
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).doesNotExist();
        try (StoreFactory f = open(false)) { // the directory is still one written before checksums
            assertThat(f.store("values", TckValues.class).get("a")).isPresent();
        }
    }

    /**
     * Jackson's message of a document it cannot parse quotes the document's text (here an unquoted token
     * of the entity): the error, logged with its causes, must not carry an entity's content anywhere.
     */
    @Test
    void aDocumentThatDoesNotParseIsReportedWithoutItsContent() throws IOException {
        String secret = "IBAN_DE89370400440532013000";
        Path file = dir.resolve("notes/n.json");
        Files.createDirectories(file.getParent()); // a directory written before checksums: the parse is what fails
        Files.writeString(file, "{\"format\":1,\"type\":\"notes\",\"id\":\"n\",\"version\":1,\"entity\":{\"text\":" + secret + "}}\n");
        try (StoreFactory f = open(false)) {
            EntityStore<Note> notes = f.store("notes", Note.class);
            for (Throwable failure : new Throwable[] {catchThrowable(() -> notes.get("n")), catchThrowable(notes::getAll)}) {
                assertThat(failure).isInstanceOf(DataIntegrityException.class).hasMessageContaining(file.toString())
                        .hasMessageContaining("at byte");
                assertNothingQuotes(failure, secret);
            }
        }
        Throwable upgrade = catchThrowable(() -> open(true).close());
        assertThat(upgrade).isInstanceOf(DataIntegrityException.class).hasMessageContaining(file.toString())
                .hasMessageContaining("at byte");
        assertNothingQuotes(upgrade, secret);
    }

    private static void assertNothingQuotes(Throwable failure, String secret) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t)).as("in the cause chain of %s", failure).doesNotContain(secret);
            for (Throwable suppressed : t.getSuppressed()) {
                assertThat(String.valueOf(suppressed)).doesNotContain(secret);
            }
        }
    }

    @Test
    void theUpgradeOptionIsTrueOrFalse() {
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString(),
                FileProvider.UPGRADE_FORMAT, "yes"))).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(FileProvider.UPGRADE_FORMAT).hasMessageContaining("yes");
    }
}
