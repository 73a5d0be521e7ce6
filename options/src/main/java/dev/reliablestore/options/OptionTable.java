package dev.reliablestore.options;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The options of one configuration surface (a provider, a registry backend): the one place where
 * their names, types, defaults, units and limits are written. It reads the string form (a map,
 * properties, a URI query), refusing unknown keys with a did-you-mean and bad values with the
 * value and the limit, and renders the docs table the docs are checked against.
 */
public final class OptionTable {

    private static final Logger LOG = LoggerFactory.getLogger(OptionTable.class);

    private final String surface;
    private final List<Option<?>> options;
    private final Map<String, Option<?>> byName = new LinkedHashMap<>();
    private final Map<String, Option<?>> byAlias = new LinkedHashMap<>();
    private final Map<String, Option.Alias> aliases = new LinkedHashMap<>();
    /** Key patterns the surface reads itself before {@link #read} (e.g. {@code registry.<option>}), named in messages. */
    private final List<String> patterns;

    private OptionTable(String surface, List<Option<?>> options) {
        this(surface, options, List.of());
    }

    private OptionTable(String surface, List<Option<?>> options, List<String> patterns) {
        this.patterns = List.copyOf(patterns);
        this.surface = Objects.requireNonNull(surface, "surface");
        this.options = List.copyOf(options);
        for (Option<?> o : options) {
            if (byName.put(o.name(), o) != null) {
                throw new IllegalArgumentException("option " + o.name() + " of " + surface + " is declared twice");
            }
            for (Option.Alias a : o.aliases()) {
                byAlias.put(a.name(), o);
                aliases.put(a.name(), a);
            }
        }
        for (String alias : byAlias.keySet()) {
            if (byName.containsKey(alias)) {
                throw new IllegalArgumentException("old name " + alias + " of " + surface + " is also a current option");
            }
        }
    }

    /** {@code surface} names it in messages, e.g. "the embedded registry". */
    public static OptionTable of(String surface, Option<?>... options) {
        return new OptionTable(surface, List.of(options));
    }

    /** The same table, whose surface also reads keys of these patterns itself (named when a key is unknown). */
    public OptionTable withPatterns(String... patterns) {
        return new OptionTable(surface, options, List.of(patterns));
    }

    public List<Option<?>> options() {
        return options;
    }

    /** The current names, sorted. */
    public Set<String> names() {
        return new TreeSet<>(byName.keySet());
    }

    /**
     * Reads {@code raw} (values are stripped). An old spelling is accepted with a warning naming the
     * new key (never the value: it may be a secret); giving both is refused.
     *
     * @param errors makes the surface's own exception from a message
     */
    public OptionValues read(Map<String, String> raw, Function<String, ? extends RuntimeException> errors) {
        Map<Option<?>, Object> values = new IdentityHashMap<>();
        Map<Option<?>, String> givenAs = new IdentityHashMap<>();
        for (Map.Entry<String, String> e : new TreeMap<>(raw).entrySet()) {
            String key = e.getKey();
            String value = Objects.requireNonNull(e.getValue(), () -> "value of " + key).strip();
            Option<?> o = byName.get(key);
            if (o == null && byAlias.containsKey(key)) {
                o = byAlias.get(key);
                Option.Alias alias = aliases.get(key);
                value = alias.toNewForm().apply(value);
                LOG.warn("option {} of {} is an old spelling: write {} instead (e.g. {}={}); the old one is accepted until the next release",
                        key, surface, o.name(), o.name(), o.type().equals("string") || o.type().startsWith("secret") ? "…" : value);
            }
            if (o == null) {
                throw errors.apply("unknown option \"" + key + "\" for " + surface + suggestion(key) + "; known options: " + names()
                        + (patterns.isEmpty() ? "" : " and " + String.join(", ", patterns)));
            }
            if (o.bareNumberUnit() != null && value.matches("\\d+")) {
                value = value + o.bareNumberUnit();
                LOG.warn("option {} of {}: a bare number is an old form; write {}={} (accepted until the next release)", key, surface, key, value);
            }
            if (o.type().equals("secret-lenient") && !Secrets.isReference(value)) {
                LOG.warn("option {} of {} holds a literal secret; write {}=env:VARIABLE or {}=file:PATH (a literal is accepted until the next"
                        + " release; the value is not logged)", key, surface, key, key);
            }
            String earlier = givenAs.putIfAbsent(o, key);
            if (earlier != null) {
                throw errors.apply("option " + o.name() + " of " + surface + " is given twice, as " + earlier + " and as " + key
                        + " (an old spelling); give it once, as " + o.name());
            }
            try {
                values.put(o, o.parse(value));
            } catch (IllegalArgumentException bad) {
                throw errors.apply("option " + key + " of " + surface + ": " + bad.getMessage()
                        + (o.limits().isEmpty() || bad.getMessage().contains(o.limits()) ? "" : " (limits " + o.limits() + ")"));
            }
        }
        return new OptionValues(values);
    }

    private String suggestion(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        List<String> candidates = new ArrayList<>(byName.keySet());
        candidates.addAll(byAlias.keySet());
        for (String c : candidates) {
            int d = normalised(c).equals(normalised(key)) ? 0 : distance(c.toLowerCase(Locale.ROOT), key.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = byAlias.containsKey(c) ? byAlias.get(c).name() : c;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 4) ? " (did you mean \"" + best + "\"?)" : "";
    }

    private static String normalised(String s) {
        return s.replaceAll("[-_.]", "").toLowerCase(Locale.ROOT);
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The docs table: key, default, unit, limits, meaning; old spellings named in the meaning. */
    public String markdown() {
        StringBuilder out = new StringBuilder("| key | default | unit | limits | meaning |\n|---|---|---|---|---|\n");
        for (Option<?> o : options) {
            String formerly = o.aliases().isEmpty() ? "" : " (formerly " + String.join(", ",
                    o.aliases().stream().map(a -> "`" + a.name() + "`").toList()) + ", still accepted with a warning)";
            out.append("| `").append(o.name()).append("` | ").append(o.defaultText()).append(" | ").append(o.unit()).append(" | ")
                    .append(o.limits()).append(" | ").append(o.doc()).append(formerly).append(" |\n");
        }
        return out.toString();
    }

    /**
     * The table as it must appear in a docs page, between {@code <!-- options: id -->} and
     * {@code <!-- /options -->}; null when the page shows it unchanged.
     */
    public String differenceFrom(String page, String id) {
        String start = "<!-- options: " + id + " -->\n";
        String end = "<!-- /options -->";
        int s = page.indexOf(start);
        int e = s < 0 ? -1 : page.indexOf(end, s);
        if (s < 0 || e < 0) {
            return "the page has no block " + start.strip() + " … " + end;
        }
        String shown = page.substring(s + start.length(), e);
        return shown.equals(markdown()) ? null : "the page shows\n" + shown + "\nbut the options table of " + surface + " is\n" + markdown();
    }
}
