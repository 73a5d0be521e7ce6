package dev.reliablestore.benchmarks.suite;

import java.util.List;
import java.util.Map;

/**
 * The entity every benchmark stores: an order document whose JSON is about 1 KB or 64 KB
 * ({@link Payloads}), realistic enough that zstd compresses it about as much as real data.
 *
 * @param id         the order id, also the store id
 * @param customer   customer reference
 * @param status     workflow status
 * @param createdAt  ISO-8601 time stamp, as text
 * @param lines      order lines; their number sets the JSON size
 * @param attributes free-form attributes
 * @param note       free text
 */
public record Order(String id, String customer, String status, String createdAt, List<Line> lines,
                    Map<String, String> attributes, String note) {

    /**
     * One order line.
     *
     * @param sku         article number
     * @param description article description
     * @param quantity    units ordered
     * @param priceCents  unit price in cents
     */
    public record Line(String sku, String description, int quantity, long priceCents) {
    }
}
