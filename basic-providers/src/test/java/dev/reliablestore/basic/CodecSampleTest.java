package dev.reliablestore.basic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.JacksonEntityCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/providers.md's "Plugging in a codec" sample: the body between the markers is in the doc verbatim. */
class CodecSampleTest {

    record Invoice(BigDecimal total, Duration term) {
    }

    @TempDir
    Path dataDir;

    @Test
    void sample() {
        // sample-start
        ObjectMapper mapper = JacksonEntityCodec.defaultMapperBuilder()
                .addModule(new SimpleModule("app")) // your modules: Kotlin, Guava, custom serializers
                .build();
        try (StoreFactory stores = Persistence.openFactory("file",
                Map.of("directory", dataDir.toString()), JacksonEntityCodec.of(mapper))) {
            EntityStore<Invoice> invoices = stores.store(Invoice.class);
            invoices.save("INV-1", new Invoice(new BigDecimal("12.30"), Duration.ofMinutes(90)));
            Invoice read = invoices.get("INV-1").orElseThrow().value(); // equals what was saved: 12.30, PT1H30M
        }
        // sample-end
    }

    @Test
    void theDocHoldsTheSampleVerbatim() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/basic/CodecSampleTest.java"));
        String body = source.substring(source.indexOf("// sample-start\n") + "// sample-start\n".length(),
                source.indexOf("        // sample-end"));
        String doc = Files.readString(Path.of("../docs/providers.md"));
        assertThat(doc).contains(body.replaceAll("(?m)^ {8}", ""));
    }
}
