package dev.reliablestore.tck;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One value of every kind a stored entity may hold, at the edges where codecs lose data: decimals
 * whose scale matters or that no double can hold, numbers beyond {@code long}, every
 * {@code java.time} type, strings outside the BMP and unpaired surrogates, empty collections,
 * nulls, nested generics. {@link #sample()} is the value the golden files of each provider hold.
 */
public record TckValues(
        List<BigDecimal> decimals,
        BigInteger bigInteger,
        long maxLong,
        double aDouble,
        Duration duration,
        Instant instant,
        LocalDate localDate,
        LocalDateTime localDateTime,
        LocalTime localTime,
        OffsetDateTime offsetDateTime,
        OffsetTime offsetTime,
        ZonedDateTime zonedDateTime,
        Year year,
        YearMonth yearMonth,
        MonthDay monthDay,
        Period period,
        ZoneId zoneId,
        ZoneOffset zoneOffset,
        Optional<String> present,
        Optional<String> absent,
        Kind kind,
        List<String> strings,
        List<String> emptyList,
        Map<String, List<Inner>> nested,
        String nothing) {

    /** An enum value of an entity. */
    public enum Kind { PLAIN, SPECIAL }

    /** A record inside a record inside a generic collection. */
    public record Inner(String name, BigDecimal amount, Map<String, Integer> counts) {
    }

    /** The decimals at the edges: scale kept, more digits than a double, beyond a double's range. */
    public static List<BigDecimal> edgeDecimals() {
        return List.of(new BigDecimal("12.30"), new BigDecimal("0.1234567890123456789"),
                new BigDecimal("99999999999999999.99"), new BigDecimal("1E+400"), new BigDecimal("100.000"),
                new BigDecimal("-0.000000000000000000001"), new BigDecimal("1E-400"), BigDecimal.ZERO);
    }

    /** Strings a codec may mangle: non-BMP characters, unpaired surrogates, controls, the empty string. */
    public static List<String> edgeStrings() {
        return List.of("", "caf\u00e9 \u65e5\u672c \ud83d\ude00", "lone high \ud800 end", "lone low \udc00 end",
                "reversed \udc00\ud800", "\u0000 nul \u001f \u007f \"quoted\" \\ back", "\u2028\u2029\ufeff");
    }

    /**
     * This value with another {@code zonedDateTime}: data written before issue 16 holds a zoned
     * time as its offset only (the region, e.g. {@code [Europe/Paris]}, was dropped), so a reader
     * of it gets the same instant at a fixed offset.
     */
    public TckValues withZonedDateTime(ZonedDateTime z) {
        return new TckValues(decimals, bigInteger, maxLong, aDouble, duration, instant, localDate, localDateTime,
                localTime, offsetDateTime, offsetTime, z, year, yearMonth, monthDay, period, zoneId, zoneOffset,
                present, absent, kind, strings, emptyList, nested, nothing);
    }

    /** The value every fidelity test and golden file uses. */
    public static TckValues sample() {
        return new TckValues(
                edgeDecimals(),
                new BigInteger("-123456789012345678901234567890123456789"),
                Long.MAX_VALUE,
                0.1,
                Duration.ofMillis(1500),
                Instant.parse("2024-02-29T23:59:59.123456789Z"),
                LocalDate.of(1, 1, 1),
                LocalDateTime.parse("2024-02-29T12:34:56.000000001"),
                LocalTime.parse("23:59:59.999999999"),
                OffsetDateTime.parse("2024-03-31T02:30:00.5+05:45"),
                OffsetTime.parse("10:15:30-08:00"),
                ZonedDateTime.parse("2024-10-27T02:30:00+01:00[Europe/Paris]"),
                Year.of(-44),
                YearMonth.of(2024, 2),
                MonthDay.of(2, 29),
                Period.of(1, -2, 3),
                ZoneId.of("America/New_York"),
                ZoneOffset.ofHoursMinutes(-9, -30),
                Optional.of("here"),
                Optional.empty(),
                Kind.SPECIAL,
                edgeStrings(),
                List.of(),
                new TreeMap<>(Map.of("empty", List.of(), "one", List.of(new Inner("\ud83d\udca1", new BigDecimal("0.10"), Map.of("k", 1))))),
                null);
    }
}
