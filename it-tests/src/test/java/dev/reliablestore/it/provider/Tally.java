package dev.reliablestore.it.provider;

import java.util.Map;
import java.util.TreeMap;

/**
 * A counter kept per writer: each writer only ever increments its own slot, so after a write whose
 * outcome is unknown the writer learns by reading its slot whether that write landed, even when
 * other writers have changed the entity since.
 */
public record Tally(Map<String, Long> byWriter) {

    public Tally {
        byWriter = Map.copyOf(byWriter);
    }

    static Tally empty() {
        return new Tally(Map.of());
    }

    long of(String writer) {
        return byWriter.getOrDefault(writer, 0L);
    }

    long total() {
        return byWriter.values().stream().mapToLong(Long::longValue).sum();
    }

    Tally incremented(String writer) {
        Map<String, Long> next = new TreeMap<>(byWriter);
        next.merge(writer, 1L, Long::sum);
        return new Tally(next);
    }
}
