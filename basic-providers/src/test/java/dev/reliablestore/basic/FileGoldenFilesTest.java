package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.TckValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files the file provider wrote must stay readable. {@code golden/file/main-2026-12/} holds a store
 * written by the code of main before issue 16 (format 1, no checksums, entity as the old
 * basic-providers codec wrote it); regenerate a golden set only for a new format, never over an old one.
 */
class FileGoldenFilesTest {

    static final String MAIN_BEFORE_ISSUE_16 = "golden/file/main-2026-12/values/sample.json";

    @TempDir
    Path dir;

    @Test
    void aStoreWrittenByMainBeforeIssue16ReadsBackExactly() throws IOException {
        Path typeDir = Files.createDirectories(dir.resolve("values"));
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(MAIN_BEFORE_ISSUE_16)) {
            assertThat(in).as(MAIN_BEFORE_ISSUE_16).isNotNull();
            Files.copy(in, typeDir.resolve("sample.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        try (StoreFactory f = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()))) {
            TckValues read = f.store("values", TckValues.class).get("sample").orElseThrow().value();
            assertThat(read.zonedDateTime()).isEqualTo(TckValues.sample().zonedDateTime().withFixedOffsetZone());
            assertThat(read).isEqualTo(TckValues.sample().withZonedDateTime(read.zonedDateTime()));
        }
    }

    /** Writes a golden set with the code of this checkout: {@code -Dgolden.write=<directory>}. */
    @Test
    @EnabledIfSystemProperty(named = "golden.write", matches = ".+")
    void writeGoldenFiles() throws IOException {
        Path out = Path.of(System.getProperty("golden.write"));
        try (StoreFactory f = Persistence.openFactory("file", Map.of(FileProvider.DIRECTORY, dir.toString()))) {
            EntityStore<TckValues> store = f.store("values", TckValues.class);
            store.save("sample", TckValues.sample());
        }
        Files.createDirectories(out.resolve("values"));
        Files.copy(dir.resolve("values/sample.json"), out.resolve("values/sample.json"), StandardCopyOption.REPLACE_EXISTING);
    }
}
