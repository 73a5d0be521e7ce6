package dev.reliablestore.cluster;

import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.tck.TckValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Values the cluster-registry provider wrote must stay readable. {@code golden/cluster-registry/main-2026-12.json}
 * is the entity JSON (the plaintext inside the zstd/AES envelope) written by the code of main before
 * issue 16, whose {@code Duration} is a number ({@code 1.500000000}) rather than ISO-8601.
 */
class ClusterGoldenFilesTest {

    static final String MAIN_BEFORE_ISSUE_16 = "golden/cluster-registry/main-2026-12.json";

    @Test
    void valuesWrittenByMainBeforeIssue16ReadBackExactly() throws IOException {
        byte[] golden;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(MAIN_BEFORE_ISSUE_16)) {
            assertThat(in).as(MAIN_BEFORE_ISSUE_16).isNotNull();
            golden = in.readAllBytes();
        }
        TckValues read = new StoreCodec<>(JacksonEntityCodec.defaults(), TckValues.class).read(golden, "golden");
        assertThat(read.duration()).isEqualTo(java.time.Duration.ofMillis(1500));
        assertThat(read.zonedDateTime()).isEqualTo(TckValues.sample().zonedDateTime().withFixedOffsetZone());
        assertThat(read).isEqualTo(TckValues.sample().withZonedDateTime(read.zonedDateTime()));
    }

    /** Writes a golden value with the code of this checkout: {@code -Dgolden.write=<file>}. */
    @Test
    @EnabledIfSystemProperty(named = "golden.write", matches = ".+")
    void writeGoldenFile() throws IOException {
        Files.write(Path.of(System.getProperty("golden.write")), new StoreCodec<>(JacksonEntityCodec.defaults(), TckValues.class).write(TckValues.sample()));
    }
}
