package dev.reliablestore.basic;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/providers.md shows the options tables the code has (MemoryProvider.OPTIONS, FileProvider.OPTIONS), unchanged. */
class ProviderOptionsDocsTest {

    @Test
    void theDocsShowTheOptionsTables() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "providers.md"));
        assertThat(MemoryProvider.OPTIONS.differenceFrom(page, "memory")).isNull();
        assertThat(FileProvider.OPTIONS.differenceFrom(page, "file")).isNull();
    }
}
