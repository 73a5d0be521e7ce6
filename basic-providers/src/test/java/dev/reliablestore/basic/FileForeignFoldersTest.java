package dev.reliablestore.basic;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A directory may hold folders that are not the provider's: a disk mounted there has its
 * {@code lost+found}. They are left alone, and they do not make a new directory look like one written
 * before checksums.
 */
class FileForeignFoldersTest {

    @TempDir
    Path dir;

    record Note(String text) {
    }

    private StoreFactory open() {
        return Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()));
    }

    @Test
    void aNewDirectoryWithLostAndFoundIsNewAndLostAndFoundIsLeftAlone() throws IOException {
        Path lostAndFound = Files.createDirectory(dir.resolve("lost+found"));
        Path kept = Files.writeString(lostAndFound.resolve(".tmp-fsck-kept"), "not the provider's");
        try (StoreFactory f = open()) {
            f.store(Note.class).save("a", new Note("x"));
            assertThat(((FileStoreFactory) f).checksumsRequired()).as("a new directory gets the format marker").isTrue();
        }
        assertThat(dir.resolve(FileStoreFactory.FORMAT_MARKER)).exists();
        try (StoreFactory f = open()) {
            assertThat(f.store(Note.class).get("a")).isPresent();
        }
        assertThat(kept).hasContent("not the provider's");
    }

    @Test
    void aFolderNamedWithBytesNoEncodingWritesIsAStrangersToo() throws IOException {
        // Latin-1 percent-encoding, and a code point past U+10FFFF: decoding them must not fail the open
        Files.createDirectory(dir.resolve("%FC%E4%E9%E8"));
        Files.createDirectory(dir.resolve("%F4%90%80%80"));
        try (StoreFactory f = open()) {
            f.store("Order", Note.class).save("a", new Note("x"));
        }
        assertThat(FileProvider.typeNames(dir)).containsExactly("Order");
    }

    @Test
    void aTypeFolderLinkedToAnotherDiskIsListed() throws IOException {
        Path elsewhere = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-elsewhere").resolve("!order"));
        Files.createSymbolicLink(dir.resolve("!order"), elsewhere);
        try (StoreFactory f = open()) {
            f.store("Order", Note.class).save("a", new Note("x"));
        }
        assertThat(FileProvider.typeNames(dir)).containsExactly("Order");
    }

    @Test
    void typeNamesLeaveOutForeignFoldersAndReadHashedNamesFromTheirDocuments() throws IOException {
        String longName = "Заказ".repeat(12); // its folder name would pass 200 characters: hashed
        try (StoreFactory f = open()) {
            f.store("Order", Note.class).save("a", new Note("x"));
            f.store(longName, Note.class).save("b", new Note("y"));
            f.store("Empty", Note.class).save("c", new Note("z"));
            f.store("Empty", Note.class).clear();
        }
        Files.createDirectory(dir.resolve("lost+found"));
        assertThat(FileProvider.typeNames(dir)).containsExactly("Empty", "Order", longName);
        try (StoreFactory f = open()) {
            f.store(longName, Note.class).clear();
        }
        assertThat(FileProvider.typeNames(dir)).as("a hashed folder with no document cannot tell its name").containsExactly("Empty", "Order");
        // a document copied into it from another type's folder names a type whose folder is another
        Path hashed;
        try (java.util.stream.Stream<Path> folders = Files.list(dir)) {
            hashed = folders.filter(p -> p.getFileName().toString().startsWith("~")).findFirst().orElseThrow();
        }
        Files.copy(dir.resolve("!order").resolve("a.json"), hashed.resolve("a.json"));
        assertThat(FileProvider.typeNames(dir)).containsExactly("Empty", "Order");
    }
}
