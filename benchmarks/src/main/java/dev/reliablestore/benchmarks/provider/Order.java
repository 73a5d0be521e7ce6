package dev.reliablestore.benchmarks.provider;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A ~1 KB order document (JSON), the entity of the provider benchmarks. */
public record Order(String id, String customer, String status, Instant created, List<Line> lines, String note) {

    /** One order line. */
    public record Line(String sku, String description, int quantity, long priceCents) {
    }

    static Order sample(int n) {
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            lines.add(new Line("SKU-" + (1000 + (n + i) % 97), "Item " + i + " of order " + n + ", standard packaging",
                    1 + (n + i) % 5, 199 + 100L * i));
        }
        return new Order("ORD-" + n, "CUST-" + (n % 50), n % 3 == 0 ? "SHIPPED" : "OPEN",
                Instant.ofEpochSecond(1_700_000_000L + n), lines, "deliver to the loading dock, ring twice");
    }
}
