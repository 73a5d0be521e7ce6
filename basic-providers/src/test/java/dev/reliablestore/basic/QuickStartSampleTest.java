package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's quick start, kept here so it compiles and runs (the lines between the markers are
 * the README's block, de-indented), and a check that the README shows it unchanged.
 */
class QuickStartSampleTest {

    @TempDir
    Path dataDir;

    @Test
    void quickStart() {
        // --- quick-start start ---
        record Customer(String name, String tier) {}

        try (EntityStore<Customer> customers =
                     Persistence.open("file", Map.of("directory", dataDir.toString()), Customer.class)) {
            long v1 = customers.save("CUST-001", new Customer("Acme Corp", "PREMIUM"));
            Versioned<Customer> read = customers.get("CUST-001").orElseThrow();
            long v2 = customers.save("CUST-001", new Customer("Acme Corp", "ENTERPRISE"), read.version());
            customers.delete("CUST-001", v2); // throws ConcurrencyConflictException if someone changed it meanwhile
        }
        // --- quick-start end ---

        try (EntityStore<Customer> customers = Persistence.open("file", Map.of("directory", dataDir.toString()), Customer.class)) {
            assertThat(customers.exists("CUST-001")).as("deleted, on disk").isFalse();
        }
    }

    @Test
    void theReadmeShowsTheSample() throws IOException {
        String source = Files.readString(Path.of("src/test/java/dev/reliablestore/basic/QuickStartSampleTest.java"));
        Matcher m = Pattern.compile("// --- quick-start start ---\\n(.*?)\\n\\s*// --- quick-start end ---", Pattern.DOTALL).matcher(source);
        assertThat(m.find()).isTrue();
        String[] lines = m.group(1).split("\n");
        int indent = lines[0].length() - lines[0].stripLeading().length();
        StringBuilder sample = new StringBuilder("```java\n");
        for (String line : lines) {
            sample.append(line.length() >= indent ? line.substring(indent) : line.strip()).append('\n');
        }
        assertThat(Files.readString(Path.of("..", "README.md"))).contains(sample.append("```\n").toString());
    }
}
