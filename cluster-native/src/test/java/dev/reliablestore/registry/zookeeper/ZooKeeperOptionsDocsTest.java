package dev.reliablestore.registry.zookeeper;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/zookeeper-backend.md shows the options table the code has (ZooKeeperOptions.TABLE), unchanged. */
class ZooKeeperOptionsDocsTest {

    @Test
    void theDocsShowTheOptionsTable() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "zookeeper-backend.md"));
        assertThat(ZooKeeperOptions.TABLE.differenceFrom(page, "zookeeper")).isNull();
    }
}
