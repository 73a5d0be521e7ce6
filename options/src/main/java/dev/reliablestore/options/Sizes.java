package dev.reliablestore.options;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one string form of a size: bytes, or a whole number of {@code KiB}, {@code MiB}, {@code GiB} or {@code TiB}. */
public final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([a-z]*)");
    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB"};

    private Sizes() {
    }

    /** @throws IllegalArgumentException naming the accepted forms */
    public static long parse(String raw) {
        Matcher m = SIZE.matcher(raw.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + raw + "\" is not a size: give bytes or a whole number of KiB, MiB, GiB or TiB");
        }
        int shift = switch (m.group(2)) {
            case "", "b" -> 0;
            case "kib" -> 10;
            case "mib" -> 20;
            case "gib" -> 30;
            case "tib" -> 40;
            case "kb", "mb", "gb", "tb", "k", "m", "g", "t" -> throw new IllegalArgumentException("\"" + raw
                    + "\" is ambiguous: sizes are 1024-based, write KiB, MiB, GiB or TiB");
            default -> throw new IllegalArgumentException("\"" + raw + "\" has an unknown unit; use bytes, KiB, MiB, GiB or TiB");
        };
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + raw + "\" is too large a size");
        }
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("\"" + raw + "\" is too large a size");
        }
        return n << shift;
    }

    /** The shortest exact form: {@code 4096} is {@code 4KiB}, {@code 67108864} is {@code 64MiB}, {@code 1000} stays {@code 1000}. */
    public static String format(long bytes) {
        for (int i = UNITS.length - 1; i >= 0; i--) {
            int shift = 10 * (i + 1);
            if (bytes != 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + UNITS[i];
            }
        }
        return Long.toString(bytes);
    }
}
