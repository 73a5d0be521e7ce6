package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A look at a file that fails (an I/O error of the disk, made here through {@link FileStoreFactory#fileStat}) is
 * not "no such file": {@code Files.exists} and its kin answer false then, and each decision taken on that answer
 * would be a wrong one. The call fails instead, with the error its path uses for I/O errors.
 */
class FileExistenceCheckTest {

    record Thing(String name) {
    }

    @TempDir
    Path dir;

    @AfterEach
    void realFileChecks() {
        FileStoreFactory.fileStat = file -> Files.readAttributes(file, BasicFileAttributes.class);
    }

    private StoreFactory open(boolean upgrade) {
        return Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString(),
                FileProvider.UPGRADE_FORMAT, Boolean.toString(upgrade)));
    }

    /** Looking at {@code failing} fails; every other file is looked at as usual. */
    private static void failChecksOf(Path failing) {
        FileStoreFactory.fileStat = file -> {
            if (file.equals(failing)) {
                throw new IOException("injected: checking " + file + " fails");
            }
            return Files.readAttributes(file, BasicFileAttributes.class);
        };
    }

    private static void assertRetryable(Throwable failed, String naming) {
        assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("injected: checking " + naming);
        assertThat(((PersistenceException) failed).isRetryable()).isTrue();
    }

    /** A document in a directory written before checksums: none of its own. */
    private void writeLegacyDocument(String type, String id) throws IOException {
        Path file = dir.resolve(type).resolve(id + ".json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"format\":1,\"type\":\"" + type + "\",\"id\":\"" + id + "\",\"version\":1,\"entity\":{\"name\":\"legacy\"}}\n");
    }

    @Test
    void existsThatCannotCheckTheDocumentIsARetryableErrorNotFalse() throws IOException {
        try (StoreFactory f = open(false)) {
            EntityStore<Thing> things = f.store("things", Thing.class);
            things.save("a", new Thing("x"));
            Path a = dir.resolve("things/a.json");
            failChecksOf(a);
            Throwable failed = catchThrowable(() -> things.exists("a"));
            assertRetryable(failed, a.toString());
            assertThat(things.exists("b")).as("an absent document is still simply absent").isFalse();
            realFileChecks();
            assertThat(things.exists("a")).isTrue();
            Files.createDirectory(dir.resolve("things/c.json"));
            assertThat(things.exists("c")).as("a folder where a document would be is no document, as before").isFalse();
        }
    }

    /**
     * Taken for absent, a format marker that cannot be looked at would open the directory as one written before
     * checksums, and a document that lost its checksum would be read as a legacy one instead of as damage.
     */
    @Test
    void anOpenThatCannotCheckTheFormatMarkerFailsAndDoesNotReadDocumentsWithoutChecksums() throws IOException {
        try (StoreFactory f = open(false)) {
            f.store("things", Thing.class).save("a", new Thing("x"));
        }
        Path marker = dir.resolve(FileStoreFactory.FORMAT_MARKER);
        assertThat(marker).exists();
        writeLegacyDocument("things", "b"); // no checksum where every document has one: damage

        for (boolean upgrade : new boolean[] {false, true}) {
            failChecksOf(marker);
            Throwable failed = catchThrowable(() -> open(upgrade).close());
            assertRetryable(failed, marker.toString());
            assertThat(failed).hasMessageContaining("format marker");
        }

        realFileChecks(); // the failed opens released the directory, and it still requires checksums
        try (StoreFactory f = open(false)) {
            assertThatThrownBy(() -> f.store("things", Thing.class).get("b")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("no CRC32C");
        }
    }

    /**
     * The same without the seam: a marker that is a link to itself is a real I/O error (ELOOP) where
     * {@code Files.exists} answers false. Taken for absent, the document without a checksum would be read.
     */
    @Test
    void aFormatMarkerThatIsALinkLoopIsNotTakenForADirectoryWrittenBeforeChecksums() throws IOException {
        try (StoreFactory f = open(false)) {
            f.store("things", Thing.class).save("a", new Thing("x"));
        }
        writeLegacyDocument("things", "b");
        Path marker = dir.resolve(FileStoreFactory.FORMAT_MARKER);
        Files.delete(marker);
        try {
            Files.createSymbolicLink(marker, marker.getFileName());
        } catch (UnsupportedOperationException | IOException noLinks) {
            org.junit.jupiter.api.Assumptions.abort("no symbolic links here: " + noLinks);
        }
        assertThat(Files.exists(marker)).as("the two-way check takes the error for absence").isFalse();
        Throwable failed = catchThrowable(() -> {
            try (StoreFactory f = open(false)) {
                f.store("things", Thing.class).get("b");
            }
        });
        assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("format marker " + marker);
    }

    /**
     * A directory without a format marker whose type folder cannot be looked at: taken for no folder, the directory
     * would be taken for a new one and given the marker, and its documents, written before checksums, would read as damage.
     */
    @Test
    void anOpenThatCannotCheckATypeFolderOfADirectoryWithoutMarkerFailsAndWritesNoMarker() throws IOException {
        writeLegacyDocument("things", "a");
        Path marker = dir.resolve(FileStoreFactory.FORMAT_MARKER);
        failChecksOf(dir.resolve("things"));
        for (boolean upgrade : new boolean[] {false, true}) {
            assertRetryable(catchThrowable(() -> open(upgrade).close()), dir.resolve("things").toString());
            assertThat(marker).doesNotExist();
        }
        realFileChecks();
        try (StoreFactory f = open(false)) {
            assertThat(f.store("things", Thing.class).get("a").orElseThrow().value()).isEqualTo(new Thing("legacy"));
        }
        assertThat(marker).doesNotExist();
    }

    /** Taken for absent, a codec record that cannot be looked at would have the type's documents read as jackson-json's. */
    @Test
    void aStoreWhoseCodecRecordCannotBeCheckedIsARetryableError() throws IOException {
        try (StoreFactory f = open(false)) {
            f.store("things", Thing.class).save("a", new Thing("x"));
        }
        Path codecFile = dir.resolve("things").resolve(FileStoreFactory.CODEC_FILE);
        assertThat(codecFile).exists();
        Files.writeString(codecFile, "another-codec\n"); // what would be misread as jackson-json's
        try (StoreFactory f = open(false)) {
            failChecksOf(codecFile);
            Throwable failed = catchThrowable(() -> f.store("things", Thing.class));
            assertRetryable(failed, codecFile.toString());
            assertThat(failed).hasMessageContaining("codec id of type things");
            realFileChecks();
            assertThatThrownBy(() -> f.store("things", Thing.class)).hasMessageContaining("another-codec");
        }
    }

    /** The first save of a type in a factory records the codec only where there is none: a failed look is not none. */
    @Test
    void aFirstSaveThatCannotCheckTheCodecRecordIsARetryableErrorAndTheNextSaveChecksAgain() throws IOException {
        try (StoreFactory f = open(false)) {
            f.store("things", Thing.class).save("a", new Thing("x"));
        }
        Path codecFile = dir.resolve("things").resolve(FileStoreFactory.CODEC_FILE);
        try (StoreFactory f = open(false)) {
            EntityStore<Thing> things = f.store("things", Thing.class);
            failChecksOf(codecFile);
            assertRetryable(catchThrowable(() -> things.save("b", new Thing("y"))), codecFile.toString());
            assertRetryable(catchThrowable(() -> things.saveBatch(Map.of("c", new Thing("z")))), codecFile.toString());
            realFileChecks();
            assertThat(things.save("b", new Thing("y"))).isEqualTo(1);
            assertThat(things.exists("c")).isFalse();
        }
        assertThat(Files.readString(codecFile, StandardCharsets.UTF_8)).isEqualTo("jackson-json\n");
    }

    @Test
    void anOpenThatCannotCheckTheDirectoryIsARetryableErrorNotAConfigurationError() throws IOException {
        failChecksOf(dir);
        Throwable failed = catchThrowable(() -> open(false).close());
        assertRetryable(failed, dir.toString());
        realFileChecks();
        open(false).close(); // the failed open released it

        Path file = dir.resolve("plain-file");
        Files.writeString(file, "x");
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, file.toString())))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("is not a directory");
    }
}
