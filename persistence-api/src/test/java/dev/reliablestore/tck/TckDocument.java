package dev.reliablestore.tck;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The TCK's rich entity: nested records, lists, sets, maps of lists, {@code java.time} values, an
 * enum and unicode text. A provider's codec must give back an equal value.
 */
public record TckDocument(
        String title,
        TckStatus status,
        List<String> tags,
        Set<String> labels,
        Map<String, Integer> scores,
        List<TckLine> lines,
        Map<String, List<TckLine>> linesByWarehouse,
        Instant createdAt,
        LocalDate dueDate,
        Duration timeout,
        long sequence,
        boolean flagged,
        String note) {

    /** A small document with the given title and sequence number, otherwise fixed content. */
    public static TckDocument simple(String title, long sequence) {
        return new TckDocument(title, TckStatus.ACTIVE, List.of("t"), Set.of(), Map.of("a", 1), List.of(), Map.of(),
                Instant.parse("2024-02-29T12:00:00Z"), LocalDate.of(2024, 3, 1), Duration.ofSeconds(30),
                sequence, false, null);
    }

    /** A document exercising every field kind, with mutable collections the caller could change. */
    public static TckDocument rich(String title) {
        List<String> tags = new ArrayList<>(List.of("alpha", "beta", "gamma"));
        Map<String, Integer> scores = new LinkedHashMap<>();
        scores.put("quality", 97);
        scores.put("ünïcödé key 🔑", -3);
        List<TckLine> lines = new ArrayList<>(List.of(
                new TckLine("SKU-1", 2, 1999, 0.25, new ArrayList<>(List.of("fragile"))),
                new TckLine("SKU-2 😀", 1, 0, 12.5, List.of())));
        Map<String, List<TckLine>> byWarehouse = new LinkedHashMap<>();
        byWarehouse.put("north", List.of(new TckLine("N-7", 70, Long.MAX_VALUE, Double.MIN_VALUE, List.of("a", "b"))));
        byWarehouse.put("south", List.of());
        return new TckDocument(
                title,
                TckStatus.ARCHIVED,
                tags,
                Set.of("x", "y"),
                scores,
                lines,
                byWarehouse,
                Instant.parse("2023-11-05T01:02:03.123456789Z"),
                LocalDate.of(1999, 12, 31),
                Duration.ofHours(26).plusMillis(5),
                Long.MIN_VALUE,
                true,
                "RTL: שלום עולם / مرحبا بالعالم; astral: 𝄞 🧪 👩‍👩‍👧; CJK: 漢字; quotes \" ' \\ and a tab\tand newline\n");
    }
}
