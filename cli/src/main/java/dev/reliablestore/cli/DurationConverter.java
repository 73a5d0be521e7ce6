package dev.reliablestore.cli;

import dev.reliablestore.options.Durations;
import picocli.CommandLine;

import java.time.Duration;

/** Durations on the command line, in the form options take ({@link Durations}): {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d} or ISO-8601 {@code PT30S}. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    /** The longest duration a command takes: 100 years, far below the 292 years a count of nanoseconds holds. */
    static final Duration MAX = Duration.ofDays(36_500);

    @Override
    public Duration convert(String value) {
        Duration d;
        try {
            d = Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
        if (d.isZero()) {
            throw new CommandLine.TypeConversionException("\"" + value + "\" is not a positive duration");
        }
        if (d.compareTo(MAX) > 0) {
            // the commands count time in nanoseconds (waits, deadlines): a longer one would overflow there, after work began
            throw new CommandLine.TypeConversionException("\"" + value + "\" is too long a duration; the longest is " + Durations.format(MAX));
        }
        return d;
    }
}
