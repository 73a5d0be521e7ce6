package dev.reliablestore.registry.embedded;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/embedded-backend.md shows the options table the code has (EmbeddedOptions.TABLE), unchanged. */
class EmbeddedOptionsDocsTest {

    @Test
    void theDocsShowTheOptionsTable() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "embedded-backend.md"));
        assertThat(EmbeddedOptions.TABLE.differenceFrom(page, "embedded")).isNull();
    }
}
