package dev.reliablestore.registry.clusapi;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/windows.md shows the options table the code has (ClusapiOptions.TABLE), unchanged. */
class ClusapiOptionsDocsTest {

    @Test
    void theDocsShowTheOptionsTable() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "windows.md"));
        assertThat(ClusapiOptions.TABLE.differenceFrom(page, "clusapi")).isNull();
    }
}
