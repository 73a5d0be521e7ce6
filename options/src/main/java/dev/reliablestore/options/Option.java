package dev.reliablestore.options;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * One configuration option: its name, how its string form is read and checked, its default, and
 * the words the docs table shows (type, unit, limits, meaning). Options are immutable; the
 * {@code with…} methods return changed copies.
 *
 * <p>The string forms are the same on every surface: durations are a number with a unit
 * ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}) or ISO-8601 ({@code PT30S});
 * sizes are bytes or a number with {@code KiB}, {@code MiB}, {@code GiB}, {@code TiB};
 * booleans are {@code true}/{@code false}; choices are matched ignoring case.
 *
 * @param <T> the parsed type
 */
public final class Option<T> {

    /** An old spelling: accepted for one release with a warning naming {@link Option#name()}. */
    public record Alias(String name, UnaryOperator<String> toNewForm) {
        public Alias {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(toNewForm, "toNewForm");
        }
    }

    private final String name;
    private final String type;
    private final T defaultValue;
    private final String defaultText;
    private final String unit;
    private final String limits;
    private final String doc;
    private final Function<String, T> parser;
    private final List<Alias> aliases;
    /** For durations: the unit a bare number had in the old form ({@code "ms"}), accepted with a warning; else null. */
    private final String bareNumberUnit;

    private Option(String name, String type, T defaultValue, String defaultText, String unit, String limits, String doc,
                   Function<String, T> parser, List<Alias> aliases) {
        this(name, type, defaultValue, defaultText, unit, limits, doc, parser, aliases, null);
    }

    private Option(String name, String type, T defaultValue, String defaultText, String unit, String limits, String doc,
                   Function<String, T> parser, List<Alias> aliases, String bareNumberUnit) {
        this.bareNumberUnit = bareNumberUnit;
        this.name = Objects.requireNonNull(name, "name");
        this.type = type;
        this.defaultValue = defaultValue;
        this.defaultText = defaultText;
        this.unit = unit;
        this.limits = limits;
        this.doc = doc;
        this.parser = parser;
        this.aliases = List.copyOf(aliases);
    }

    // ---- kinds ------------------------------------------------------------------------------------

    /** A whole number in {@code min..max}. */
    public static Option<Long> integer(String name, long defaultValue, long min, long max, String unit, String doc) {
        return new Option<>(name, "integer", defaultValue, "`" + defaultValue + "`", unit, min + " .. " + max, doc, raw -> {
            long v;
            try {
                v = Long.parseLong(raw);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + raw + "\" is not a whole number");
            }
            checkRange(v, min, max, Long.toString(v), min + " .. " + max);
            return v;
        }, List.of());
    }

    /** A duration in {@code min..max}. */
    public static Option<Duration> duration(String name, Duration defaultValue, Duration min, Duration max, String doc) {
        String range = Durations.format(min) + " .. " + Durations.format(max);
        return new Option<>(name, "duration", defaultValue, "`" + Durations.format(defaultValue) + "`", "duration", range, doc, raw -> {
            Duration d = Durations.parse(raw);
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(Durations.format(d) + " is out of range " + range);
            }
            return d;
        }, List.of());
    }

    /** A size in bytes in {@code min..max}. */
    public static Option<Long> size(String name, long defaultValue, long min, long max, String doc) {
        String range = Sizes.format(min) + " .. " + Sizes.format(max);
        return new Option<>(name, "size", defaultValue, "`" + Sizes.format(defaultValue) + "`", "bytes", range, doc, raw -> {
            long v = Sizes.parse(raw);
            checkRange(v, min, max, Sizes.format(v), range);
            return v;
        }, List.of());
    }

    /** {@code true} or {@code false}. */
    public static Option<Boolean> bool(String name, boolean defaultValue, String doc) {
        return new Option<>(name, "boolean", defaultValue, "`" + defaultValue + "`", "`true` or `false`", "", doc, raw -> {
            if (raw.equalsIgnoreCase("true")) {
                return true;
            }
            if (raw.equalsIgnoreCase("false")) {
                return false;
            }
            throw new IllegalArgumentException("\"" + raw + "\" is not true or false");
        }, List.of());
    }

    /** One of an enum's constants, by the names given (matched ignoring case). */
    public static <E extends Enum<E>> Option<E> choice(String name, Map<String, E> choices, E defaultValue, String doc) {
        return choice(name, choices, defaultValue, null, doc);
    }

    /** As {@link #choice(String, Map, Enum, String)}, with the docs' default column given (e.g. when there is none). */
    public static <E extends Enum<E>> Option<E> choice(String name, Map<String, E> choices, E defaultValue, String defaultText, String doc) {
        Map<String, E> byLower = new LinkedHashMap<>();
        choices.forEach((k, v) -> byLower.put(normalisedChoice(k), v));
        String defaultName = defaultText != null ? defaultText : "`" + choices.entrySet().stream().filter(e -> e.getValue() == defaultValue)
                .map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("default " + defaultValue + " of " + name + " is not among the choices")) + "`";
        List<String> names = new ArrayList<>();
        choices.keySet().forEach(k -> names.add("`" + k + "`"));
        return new Option<>(name, "choice", defaultValue, defaultName, String.join(" or ", names), "", doc, raw -> {
            E e = byLower.get(normalisedChoice(raw));
            if (e == null) {
                throw new IllegalArgumentException("\"" + raw + "\" is not one of " + choices.keySet());
            }
            return e;
        }, List.of());
    }

    /** Choices match ignoring case, {@code _} and {@code -} ({@code LastWriteWins}, {@code last-write-wins}). */
    private static String normalisedChoice(String s) {
        return s.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /**
     * A duration of any length, for surfaces that check ranges (and rules between options) where
     * the typed form is validated too, e.g. a builder's {@code build()}; {@link #withLimits} documents them.
     */
    public static Option<Duration> duration(String name, Duration defaultValue, String doc) {
        return new Option<>(name, "duration", defaultValue, "`" + Durations.format(defaultValue) + "`", "duration", "", doc, Durations::parse,
                List.of());
    }

    /** A whole number, range checked elsewhere as for {@link #duration(String, Duration, String)}. */
    public static Option<Long> integer(String name, long defaultValue, String unit, String doc) {
        return new Option<>(name, "integer", defaultValue, "`" + defaultValue + "`", unit, "", doc, raw -> {
            try {
                return Long.parseLong(raw);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + raw + "\" is not a whole number");
            }
        }, List.of());
    }

    /** The docs' limits column, for an option whose range is checked elsewhere. */
    public Option<T> withLimits(String text) {
        return new Option<>(name, type, defaultValue, defaultText, unit, text, doc, parser, aliases, bareNumberUnit);
    }

    /**
     * A string checked by {@code check} (which throws {@link IllegalArgumentException} naming what is
     * wrong); {@code defaultValue} may be null when the default is computed by the caller, then
     * {@code defaultText} says how.
     */
    public static Option<String> string(String name, String defaultValue, String defaultText, String unit,
                                        UnaryOperator<String> check, String doc) {
        return new Option<>(name, "string", defaultValue, defaultText, unit, "", doc, check::apply, List.of());
    }

    /**
     * A secret, given as a reference: {@code env:NAME} (an environment variable), {@code file:PATH}
     * (a file's content, trailing line breaks dropped) or {@code text:VALUE} (inline, on purpose). A
     * bare literal is refused (see {@link #withLiteralsAcceptedForOneRelease()}). {@code check} sees the
     * resolved secret and must not put it in its message.
     */
    public static Option<String> secret(String name, String unit, UnaryOperator<String> check, String doc) {
        return new Option<>(name, "secret", null, "none", unit, "", doc, raw -> check.apply(Secrets.resolve(raw, false)), List.of());
    }

    /** A secret whose old form was a literal: still accepted, with a warning that never shows it, for one release. */
    public Option<T> withLiteralsAcceptedForOneRelease() {
        if (!type.equals("secret")) {
            throw new IllegalStateException(name + " is not a secret");
        }
        Function<String, T> check = parser;
        Option<T> lenient = new Option<>(name, "secret-lenient", defaultValue, defaultText, unit, limits, doc, raw -> {
            // literal: resolve leaves it as it is; a reference: resolved as above
            return Secrets.isReference(raw) ? check.apply(raw) : check.apply("text:" + raw);
        }, aliases, bareNumberUnit);
        return lenient;
    }

    // ---- copies -----------------------------------------------------------------------------------

    /** The same option also accepted under an old name, whose value is turned into this option's form. */
    public Option<T> withAlias(String oldName, UnaryOperator<String> toNewForm) {
        List<Alias> more = new ArrayList<>(aliases);
        more.add(new Alias(oldName, toNewForm));
        return new Option<>(name, type, defaultValue, defaultText, unit, limits, doc, parser, more, bareNumberUnit);
    }

    /**
     * A duration whose old form was a bare number of {@code unit} under the same name (e.g.
     * {@code sessionTimeout=10000} for 10 s): still accepted, with a warning, for one release.
     */
    public Option<T> withBareNumbersAs(String unit) {
        if (!type.equals("duration")) {
            throw new IllegalStateException(name + " is not a duration");
        }
        return new Option<>(name, type, defaultValue, defaultText, this.unit, limits, doc, parser, aliases, unit);
    }

    /** See {@link #withBareNumbersAs}; null when a bare number is refused. */
    public String bareNumberUnit() {
        return bareNumberUnit;
    }

    /** An old name whose value was a bare number of milliseconds. */
    public Option<T> withMillisecondsAlias(String oldName) {
        return withAlias(oldName, raw -> raw.strip().matches("\\d+") ? raw.strip() + "ms" : raw);
    }

    /** The docs' default column, when it is not the plain value (e.g. {@code `67108864` (64 MiB)}). */
    public Option<T> withDefaultText(String text) {
        return new Option<>(name, type, defaultValue, text, unit, limits, doc, parser, aliases, bareNumberUnit);
    }

    /** The docs' unit column. */
    public Option<T> withUnit(String text) {
        return new Option<>(name, type, defaultValue, defaultText, text, limits, doc, parser, aliases, bareNumberUnit);
    }

    // ---- reading ----------------------------------------------------------------------------------

    /**
     * Parses and checks a value's string form (stripped).
     *
     * @throws IllegalArgumentException saying what is wrong (never a secret's value)
     */
    public T parse(String raw) {
        return parser.apply(raw);
    }

    private static void checkRange(long v, long min, long max, String shown, String range) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(shown + " is out of range " + range);
        }
    }

    public String name() {
        return name;
    }

    public String type() {
        return type;
    }

    /** The default, or null when the caller computes it (see the docs' default column). */
    public T defaultValue() {
        return defaultValue;
    }

    public String defaultText() {
        return defaultText;
    }

    public String unit() {
        return unit;
    }

    public String limits() {
        return limits;
    }

    public String doc() {
        return doc;
    }

    public List<Alias> aliases() {
        return Collections.unmodifiableList(aliases);
    }

    @Override
    public String toString() {
        return "Option[" + name + (aliases.isEmpty() ? "" : ", formerly " + Arrays.toString(aliases.stream().map(Alias::name).toArray())) + "]";
    }
}
