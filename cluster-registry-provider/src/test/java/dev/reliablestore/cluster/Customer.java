package dev.reliablestore.cluster;

import java.time.Instant;
import java.util.List;

/** A test entity. */
record Customer(String name, String tier, List<String> notes, Instant since, long balance) {

    static Customer of(String name, long balance) {
        return new Customer(name, "PREMIUM", List.of("n1"), Instant.parse("2024-01-02T03:04:05Z"), balance);
    }
}
