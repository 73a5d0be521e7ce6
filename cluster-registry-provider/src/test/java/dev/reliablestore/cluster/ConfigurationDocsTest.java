package dev.reliablestore.cluster;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/configuration.md shows the options table the code has (ClusterPersistenceConfiguration.OPTIONS), unchanged. */
class ConfigurationDocsTest {

    @Test
    void theDocsShowTheOptionsTable() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "configuration.md"));
        assertThat(ClusterPersistenceConfiguration.OPTIONS.differenceFrom(page, "cluster-registry")).isNull();
    }
}
