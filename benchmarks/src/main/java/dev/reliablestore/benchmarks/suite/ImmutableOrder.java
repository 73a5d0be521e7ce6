package dev.reliablestore.benchmarks.suite;

import java.util.List;
import java.util.Map;

/**
 * {@link Order} made deeply immutable: the same components and JSON, with the collections copied
 * into unmodifiable ones by the canonical constructor (which the codec calls too), so that the
 * provider's cache may return one shared instance ({@code cachedReads=Auto}).
 */
public record ImmutableOrder(String id, String customer, String status, String createdAt, List<Order.Line> lines,
                             Map<String, String> attributes, String note) {

    public ImmutableOrder {
        lines = List.copyOf(lines);
        attributes = Map.copyOf(attributes);
    }

    /** The same order. */
    public static ImmutableOrder of(Order o) {
        return new ImmutableOrder(o.id(), o.customer(), o.status(), o.createdAt(), o.lines(), o.attributes(), o.note());
    }
}
