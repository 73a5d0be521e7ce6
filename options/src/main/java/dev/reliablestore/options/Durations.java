package dev.reliablestore.options;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one string form of a duration: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}, or ISO-8601 {@code PT30S}. */
public final class Durations {

    private static final Pattern WITH_UNIT = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {
    }

    /** @throws IllegalArgumentException naming the accepted forms */
    public static Duration parse(String raw) {
        String s = raw.strip();
        Duration d;
        if (!s.isEmpty() && (s.charAt(0) == 'P' || s.charAt(0) == 'p')) {
            try {
                d = Duration.parse(s.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("\"" + raw + "\" is not an ISO-8601 duration (e.g. PT30S)");
            }
        } else {
            Matcher m = WITH_UNIT.matcher(s.toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException("\"" + raw + "\" is not a duration: give a whole number with a unit (500ms, 30s, 5m, 1h, 2d)"
                        + " or ISO-8601 (PT30S)");
            }
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + raw + "\" is too large a duration");
            }
            try {
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("\"" + raw + "\" is too large a duration");
            }
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("\"" + raw + "\" is negative");
        }
        return d;
    }

    /** The shortest exact form: {@code 10ms}, {@code 30s}, {@code 5m}, …; ISO-8601 below a millisecond. */
    public static String format(Duration d) {
        if (d.getNano() % 1_000_000 != 0 || d.getSeconds() > Long.MAX_VALUE / 1000 || d.getSeconds() < Long.MIN_VALUE / 1000) {
            return d.toString(); // also a duration too long for a count of milliseconds, which a refusal must still name
        }
        long ms = d.toMillis();
        if (ms == 0) {
            return "0ms";
        }
        if (ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
