package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/** The README's quick start, kept here so it compiles and runs; the test body is the sample verbatim. */
class QuickStartSampleTest {

    record Customer(String name, String tier) {
    }

    @TempDir
    Path dataDir;

    @Test
    void quickStart() {
        try (EntityStore<Customer> customers =
                     Persistence.open("file", Map.of("directory", dataDir.toString()), Customer.class)) {
            long v1 = customers.save("CUST-001", new Customer("Acme Corp", "PREMIUM"));
            Versioned<Customer> read = customers.get("CUST-001").orElseThrow();
            long v2 = customers.save("CUST-001", new Customer("Acme Corp", "ENTERPRISE"), read.version());
            customers.delete("CUST-001", v2); // throws ConcurrencyConflictException if someone changed it meanwhile
            System.out.printf("saved v%d, read %s, updated to v%d, deleted%n", v1, read.value(), v2);
        }
    }
}
