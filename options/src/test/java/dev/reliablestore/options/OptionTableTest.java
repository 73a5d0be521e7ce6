package dev.reliablestore.options;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionTableTest {

    enum Mode { FAST, SAFE }

    static final Option<Duration> INTERVAL = Option.duration("flushInterval", Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofSeconds(10),
            "how often").withMillisecondsAlias("flushIntervalMs");
    static final Option<Long> THRESHOLD = Option.size("threshold", 64L << 20, 4096, 1L << 40, "when to rotate");
    static final Option<Boolean> TRUNCATE = Option.bool("truncate", false, "drop a damaged tail");
    static final Option<Mode> MODE = Option.choice("mode", Map.of("fast", Mode.FAST), Mode.FAST, "who writes");
    static final Option<Long> COUNT = Option.integer("count", 5, 1, 10, "attempts", "how many");
    static final OptionTable TABLE = OptionTable.of("the test surface", INTERVAL, THRESHOLD, TRUNCATE, MODE, COUNT);

    static final class Refused extends RuntimeException {
        Refused(String m) {
            super(m);
        }
    }

    private static OptionValues read(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return TABLE.read(m, Refused::new);
    }

    @Test
    void defaultsApplyAndGivenValuesAreParsed() {
        OptionValues none = read();
        assertThat(none.get(INTERVAL)).isEqualTo(Duration.ofMillis(10));
        assertThat(none.isSet(INTERVAL)).isFalse();
        OptionValues v = read("flushInterval", " 2s ", "threshold", "1MiB", "truncate", "TRUE", "mode", "Fast", "count", "7");
        assertThat(v.get(INTERVAL)).isEqualTo(Duration.ofSeconds(2));
        assertThat(v.get(THRESHOLD)).isEqualTo(1L << 20);
        assertThat(v.get(TRUNCATE)).isTrue();
        assertThat(v.get(MODE)).isEqualTo(Mode.FAST);
        assertThat(v.get(COUNT)).isEqualTo(7L);
        assertThat(read("flushInterval", "PT0.5S").get(INTERVAL)).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void anOldSpellingIsReadInItsOldFormButNotTogetherWithTheNewOne() {
        assertThat(read("flushIntervalMs", "25").get(INTERVAL)).isEqualTo(Duration.ofMillis(25));
        assertThatThrownBy(() -> read("flushIntervalMs", "25", "flushInterval", "25ms")).isInstanceOf(Refused.class)
                .hasMessageContaining("given twice").hasMessageContaining("flushIntervalMs").hasMessageContaining("flushInterval");
    }

    @Test
    void unknownKeysAreRefusedWithTheNearestName() {
        assertThatThrownBy(() -> read("flushintervall", "1s")).isInstanceOf(Refused.class)
                .hasMessageContaining("unknown option \"flushintervall\" for the test surface (did you mean \"flushInterval\"?)")
                .hasMessageContaining("known options: [count, flushInterval, mode, threshold, truncate]");
        assertThatThrownBy(() -> read("flush_interval_ms", "1")).hasMessageContaining("did you mean \"flushInterval\"");
        assertThatThrownBy(() -> read("colour", "red")).hasMessageNotContaining("did you mean");
    }

    @Test
    void badValuesNameTheValueAndTheLimits() {
        assertThatThrownBy(() -> read("flushInterval", "11s")).hasMessage("option flushInterval of the test surface: 11s is out of range 1ms .. 10s");
        // longer than a count of milliseconds holds: still a typed refusal naming the value, not an ArithmeticException
        assertThatThrownBy(() -> read("flushInterval", "9999999999999d"))
                .hasMessageContaining("out of range 1ms .. 10s").hasMessageContaining("PT239999999999976H");
        assertThatThrownBy(() -> read("flushInterval", "PT9999999999999999S"))
                .hasMessageContaining("out of range 1ms .. 10s");
        assertThatThrownBy(() -> read("flushInterval", "10")).hasMessageContaining("\"10\" is not a duration").hasMessageEndingWith("(limits 1ms .. 10s)");
        assertThatThrownBy(() -> read("threshold", "5MB")).hasMessageContaining("ambiguous");
        assertThatThrownBy(() -> read("threshold", "100")).hasMessageContaining("100 is out of range 4KiB .. 1TiB");
        assertThatThrownBy(() -> read("truncate", "yes")).hasMessageContaining("\"yes\" is not true or false");
        assertThatThrownBy(() -> read("mode", "slow")).hasMessageContaining("\"slow\" is not one of [fast]");
        assertThatThrownBy(() -> read("count", "11")).hasMessageContaining("11 is out of range 1 .. 10");
        assertThatThrownBy(() -> read("count", "x")).hasMessageContaining("\"x\" is not a whole number");
    }

    @Test
    void durationsAndSizesHaveOneShortestForm() {
        assertThat(Durations.format(Duration.ofMillis(90_000))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofMinutes(120))).isEqualTo("2h");
        assertThat(Durations.format(Duration.ofNanos(1500))).isEqualTo("PT0.0000015S");
        assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThatThrownBy(() -> Durations.parse("-5s")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Durations.parse("PT-5S")).hasMessageContaining("negative");
        assertThat(Sizes.format(4096)).isEqualTo("4KiB");
        assertThat(Sizes.format(1000)).isEqualTo("1000");
        assertThat(Sizes.parse("3 GiB")).isEqualTo(3L << 30);
        assertThatThrownBy(() -> Sizes.parse("99999999999TiB")).hasMessageContaining("too large");
    }

    @Test
    void theDocsTableIsRenderedAndCheckedAgainstAPage() {
        String table = TABLE.markdown();
        assertThat(table).startsWith("| key | default | unit | limits | meaning |\n|---|---|---|---|---|\n")
                .contains("| `flushInterval` | `10ms` | duration | 1ms .. 10s | how often (formerly `flushIntervalMs`, still accepted with a warning) |\n")
                .contains("| `threshold` | `64MiB` | bytes | 4KiB .. 1TiB | when to rotate |\n");
        String page = "intro\n<!-- options: test -->\n" + table + "<!-- /options -->\nmore";
        assertThat(TABLE.differenceFrom(page, "test")).isNull();
        assertThat(TABLE.differenceFrom(page.replace("how often", "how rarely"), "test")).contains("the page shows");
        assertThat(TABLE.differenceFrom("no block", "test")).contains("has no block");
    }

    @Test
    void secretsAreReferencesAndNeverShown() throws Exception {
        Option<String> strict = Option.secret("password", "secret", p -> p, "a password");
        Option<String> lenient = Option.secret("digest", "secret", p -> p, "credentials").withLiteralsAcceptedForOneRelease();
        OptionTable t = OptionTable.of("the secret surface", strict, lenient);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("secret", ".txt");
        try {
            java.nio.file.Files.writeString(file, "from-a-file\n");
            assertThat(t.read(Map.of("password", "file:" + file), Refused::new).get(strict)).isEqualTo("from-a-file");
            assertThat(t.read(Map.of("password", "text:inline"), Refused::new).get(strict)).isEqualTo("inline");
            assertThatThrownBy(() -> t.read(Map.of("password", "hunter2"), Refused::new)).isInstanceOf(Refused.class)
                    .hasMessageContaining("must be a secret reference").hasMessageNotContaining("hunter2");
            assertThatThrownBy(() -> t.read(Map.of("password", "env:RS_SURELY_UNSET_VARIABLE_42"), Refused::new))
                    .hasMessageContaining("environment variable \"RS_SURELY_UNSET_VARIABLE_42\"");
            assertThat(t.read(Map.of("digest", "user:hunter2"), Refused::new).get(lenient)).isEqualTo("user:hunter2");
            assertThat(t.read(Map.of("digest", "file:" + file), Refused::new).get(lenient)).isEqualTo("from-a-file");
            java.nio.file.Files.writeString(file, "");
            assertThatThrownBy(() -> t.read(Map.of("password", "file:" + file), Refused::new)).hasMessageContaining("is empty");
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void choicesIgnoreCaseAndSeparators() {
        Option<Mode> m = Option.choice("mode", Map.of("SafeMode", Mode.SAFE), Mode.SAFE, "how");
        assertThat(m.parse("safe-mode")).isEqualTo(Mode.SAFE);
        assertThat(m.parse("SAFE_MODE")).isEqualTo(Mode.SAFE);
    }
}
