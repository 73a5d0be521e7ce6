package dev.reliablestore.tck;

import java.util.List;

/** A nested record inside {@link TckDocument}. */
public record TckLine(String sku, int quantity, long priceCents, double weightKg, List<String> notes) {
}
