package dev.reliablestore.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.options.Option;

/**
 * The IDE hints for {@code reliablestore.options.*} keys are the cluster-registry provider's options
 * table (ClusterPersistenceConfiguration.OPTIONS), kept in step like docs/configuration.md is, and
 * the configuration processor merged them into the metadata the jar ships.
 */
class OptionHintsTest {

    private static final Path HINTS = Path.of("src/main/resources/META-INF/additional-spring-configuration-metadata.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static String expectedHints() throws Exception {
        List<Value> keys = ClusterPersistenceConfiguration.OPTIONS.options().stream()
                .map(o -> new Value(o.name(), description(o))).toList();
        List<Value> providers = List.of(
                new Value("cluster-registry", "Entities in a replicated cluster registry (embedded, ZooKeeper, clusapi)."),
                new Value("file", "One JSON file per entity in a directory (basic-providers)."),
                new Value("memory", "In the heap of this process (basic-providers)."));
        return JSON.writeValueAsString(new Metadata(List.of(new Hint("reliablestore.options.keys", keys),
                new Hint("reliablestore.provider", providers)))) + "\n";
    }

    // records: Jackson writes their members in this order, so the file is stable
    record Metadata(List<Hint> hints) {
    }

    record Hint(String name, List<Value> values) {
    }

    record Value(String value, String description) {
    }

    private static String description(Option<?> o) {
        String limits = o.limits().isEmpty() ? "" : " Limits: " + o.limits() + ".";
        return o.doc() + " Default: " + o.defaultText() + "; unit: " + o.unit() + "." + limits;
    }

    @Test
    void theHintsAreTheProvidersOptionsTable() throws Exception {
        String expected = expectedHints();
        if (!expected.equals(Files.readString(HINTS))) {
            Path fresh = Path.of("target", HINTS.getFileName().toString());
            Files.writeString(fresh, expected);
            assertThat(Files.readString(HINTS)).as("%s is out of step with the options table; the current hints are in %s", HINTS, fresh)
                    .isEqualTo(expected);
        }
    }

    @Test
    void theShippedMetadataCarriesTheHints() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            JsonNode metadata = JSON.readTree(in);
            assertThat(metadata.get("properties").findValuesAsText("name")).contains("reliablestore.provider", "reliablestore.options");
            assertThat(metadata.get("hints").findValuesAsText("name")).contains("reliablestore.options.keys", "reliablestore.provider");
            assertThat(metadata.get("hints").findValuesAsText("value")).contains("clusterName", "healthCheckInterval", "keyStorePassword");
        }
    }
}
