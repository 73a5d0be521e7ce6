package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The case-preserving name mapping of the clusapi backend: reversible, and injective under case folding. */
class NativeNamesTest {

    /** Names that collide, pairwise or in groups, under some case folding (Windows', Java's, the fake's). */
    private static final List<String> CASE_FAMILIES = List.of(
            "b", "B", "TckDocument", "tckdocument", "TCKDOCUMENT",
            "ß", "ẞ", "ss", "SS", "Ss",
            "i", "I", "İ", "ı",
            "ǅ", "Ǆ", "ǆ", "Ǳ", "ǲ", "ǳ",
            "σ", "Σ", "ς", "όσος", "ΌΣΟΣ", "όσοσ", "όσος".toUpperCase(),
            "k", "K", "\u212A", "å", "Å", "\u212B", "ω", "Ω", "\u2126",
            "s", "S", "ſ", "µ", "μ", "Μ", "θ", "Θ", "ϑ", "ι", "Ι", "\u0345", "\u1FBE",
            "\uD801\uDC00", "\uD801\uDC28", // Deseret long I, upper and lower
            "^", "^^", "^b", "^B", "^_0042", "_0042", "^_", "a^", "^a");

    @Test
    void examplesOfTheMapping() {
        assertThat(NativeNames.encode("b")).isEqualTo("b");
        assertThat(NativeNames.encode("B")).isEqualTo("^b");
        assertThat(NativeNames.encode("TckDocument")).isEqualTo("^tck^document");
        assertThat(NativeNames.encode("C-1 é 漢字 😀 _ ~")).isEqualTo("^c-1 é 漢字 😀 _ ~");
        assertThat(NativeNames.encode("^")).isEqualTo("^^");
        assertThat(NativeNames.encode("a^B")).isEqualTo("a^^^b");
        assertThat(NativeNames.encode("ß")).isEqualTo("ß");
        assertThat(NativeNames.encode("ẞ")).isEqualTo("^_1e9e");
        assertThat(NativeNames.encode("I")).isEqualTo("^i");
        assertThat(NativeNames.encode("İ")).isEqualTo("^_0130");
        assertThat(NativeNames.encode("ı")).isEqualTo("^_0131");
        assertThat(NativeNames.encode("Ǆ")).isEqualTo("^ǆ");
        assertThat(NativeNames.encode("ǅ")).isEqualTo("^_01c5");
        assertThat(NativeNames.encode("ǆ")).isEqualTo("ǆ");
        assertThat(NativeNames.encode("Σ")).isEqualTo("^σ");
        assertThat(NativeNames.encode("σ")).isEqualTo("σ");
        assertThat(NativeNames.encode("ς")).isEqualTo("^_03c2");
        assertThat(NativeNames.encode("\u212A")).as("Kelvin sign").isEqualTo("^_212a");
        assertThat(NativeNames.encode("\uD801\uDC00")).as("Deseret capital long I").isEqualTo("^\uD801\uDC28");
        assertThat(NativeNames.encode("\uD801")).as("a lone surrogate").isEqualTo("\uD801");
    }

    @Test
    void everyCodePointAndLoneSurrogateRoundTrips() {
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String name = new String(Character.toChars(cp));
            String mapped = NativeNames.encode(name);
            if (NativeNames.decode(mapped, "test").equals(name)) {
                continue;
            }
            throw new AssertionError("U+" + Integer.toHexString(cp) + " does not round-trip: " + mapped);
        }
    }

    @Test
    void randomNamesRoundTrip() {
        Random random = new Random(42);
        String alphabet = "aAbBzZ09^_/. ßẞiIİıǅǄǆσΣςkK\u212AµμΜ漢é\uD83D\uDE00\uD801\uDC00\uD801\uDC28";
        int[] cps = alphabet.codePoints().toArray();
        for (int n = 0; n < 20_000; n++) {
            StringBuilder b = new StringBuilder();
            int len = 1 + random.nextInt(12);
            for (int i = 0; i < len; i++) {
                b.appendCodePoint(random.nextBoolean() ? cps[random.nextInt(cps.length)] : random.nextInt(0x3000));
            }
            String name = b.toString();
            assertThat(NativeNames.decode(NativeNames.encode(name), "test")).isEqualTo(name);
        }
    }

    /**
     * The argument for injectivity: no two distinct characters that mapped names consist of fold
     * to one, under the fake's comparison (String.CASE_INSENSITIVE_ORDER, per UTF-16 unit), under
     * per-unit upper- and lowercasing (Windows' RtlUpcaseUnicodeChar is a per-unit uppercase table) and
     * under per-code-point folding.
     */
    @Test
    void theAlphabetOfMappedNamesHasNoTwoCharactersThatFoldTogether() {
        BitSet units = new BitSet(0x10000);
        BitSet points = new BitSet(Character.MAX_CODE_POINT + 1);
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String mapped = NativeNames.encode(new String(Character.toChars(cp)));
            for (int i = 0; i < mapped.length(); ) {
                int p = mapped.codePointAt(i);
                points.set(p);
                i += Character.charCount(p);
            }
            for (int i = 0; i < mapped.length(); i++) {
                units.set(mapped.charAt(i));
            }
        }
        Map<String, String> byFake = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        units.stream().forEach(unit -> {
            String s = String.valueOf((char) unit);
            String other = byFake.putIfAbsent(s, s);
            if (other != null) {
                throw new AssertionError("mapped names hold both U+" + hex(other.charAt(0)) + " and U+" + hex(unit)
                        + ", which the fake compares equal");
            }
        });
        noCollision(units, u -> Character.toUpperCase((char) u), "uppercase unit");
        noCollision(units, u -> Character.toLowerCase((char) u), "lowercase unit");
        noCollision(points, Character::toUpperCase, "uppercase code point");
        noCollision(points, Character::toLowerCase, "lowercase code point");
        assertThat(byFake).containsKeys("^", "_", "a", "0", "σ", "ß");
        assertThat(units.get('A')).isFalse();
        assertThat(units.get('ς')).isFalse();
        assertThat(units.get('ı')).isFalse();
        assertThat(points.get(0x10400)).as("Deseret capital").isFalse();
    }

    private static void noCollision(BitSet alphabet, IntUnaryOperator fold, String how) {
        int[] first = new int[Character.MAX_CODE_POINT + 1];
        java.util.Arrays.fill(first, -1);
        alphabet.stream().forEach(c -> {
            int f = fold.applyAsInt(c);
            if (first[f] >= 0) {
                throw new AssertionError("mapped names hold both U+" + hex(first[f]) + " and U+" + hex(c) + ", equal by " + how);
            }
            first[f] = c;
        });
    }

    private static String hex(int c) {
        return Integer.toHexString(c);
    }

    @Test
    void namesThatDifferOnlyInCaseMapToNamesThatDifferIgnoringCase() {
        List<String> mapped = new ArrayList<>();
        for (String name : CASE_FAMILIES) {
            mapped.add(NativeNames.encode(name));
        }
        for (int i = 0; i < mapped.size(); i++) {
            for (int j = i + 1; j < mapped.size(); j++) {
                String a = mapped.get(i);
                String b = mapped.get(j);
                if (CASE_FAMILIES.get(i).equals(CASE_FAMILIES.get(j))) {
                    continue; // "όσος".toUpperCase() may repeat an entry
                }
                assertThat(a.equalsIgnoreCase(b)).as("%s and %s as %s and %s", CASE_FAMILIES.get(i), CASE_FAMILIES.get(j), a, b).isFalse();
                assertThat(foldUpper(a)).as("%s / %s", a, b).isNotEqualTo(foldUpper(b));
                assertThat(a.toLowerCase(java.util.Locale.ROOT)).as("%s / %s", a, b).isNotEqualTo(b.toLowerCase(java.util.Locale.ROOT));
            }
        }
        // without the mapping the same names do collide: the test would catch a mapping that did nothing
        assertThat("TckDocument".equalsIgnoreCase("tckdocument")).isTrue();
        assertThat("σ".equalsIgnoreCase("ς")).isTrue();
        assertThat("i".equalsIgnoreCase("ı")).isTrue();
        assertThat(foldUpper("ǅ")).isEqualTo(foldUpper("ǆ"));
    }

    /** Per-unit uppercasing, as Windows' uppercase table does. */
    private static String foldUpper(String s) {
        char[] c = s.toCharArray();
        for (int i = 0; i < c.length; i++) {
            c[i] = Character.toUpperCase(c[i]);
        }
        return new String(c);
    }

    @Test
    void mappedNamesNeverMeetTheReservedNames() {
        for (String name : CASE_FAMILIES) {
            String mapped = NativeNames.encode(name);
            assertThat(Reserved.isReserved(mapped)).as(mapped).isFalse();
            for (String reserved : List.of(Reserved.SEQUENCE, Reserved.JOURNAL, Reserved.NEVER_EXISTS, Reserved.revisionOf(mapped))) {
                assertThat(mapped.equalsIgnoreCase(reserved)).as("%s vs %s", mapped, reserved).isFalse();
            }
        }
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (cp != '/' && NativeNames.encode(new String(Character.toChars(cp))).indexOf('/') >= 0) {
                throw new AssertionError("U+" + hex(cp) + " maps to a name with '/'");
            }
        }
    }

    @Test
    void nativeNamesTheMappingCannotHaveWrittenAreCorrupt() {
        for (String foreign : List.of("A", "Foo", "^", "a^", "^1", "^_", "^_004", "^_zz00", "^_0041", "^_0061", "^_00C5", "^_00c5",
                "^ς", "^ǅ", "ς", "İ", "^ ", "^_\uFF10\uFF10\uFF14\uFF11")) {
            assertThatThrownBy(() -> NativeNames.decode(foreign, "value x"))
                    .as(foreign)
                    .isInstanceOf(RegistryCorruptedException.class)
                    .hasMessageContaining("value x").hasMessageContaining(foreign).hasMessageContaining("outside ReliableStore");
        }
        assertThat(NativeNames.decode("^_00b5", "x")).isEqualTo("µ");
    }

    @Test
    void aKeySegmentWhoseMappedFormIsTooLongIsRefusedNamingBothLengthsAndTheLimit() {
        assertThat(NativeNames.key("a".repeat(255))).hasSize(255);
        assertThat(NativeNames.key("A".repeat(127) + "a")).hasSize(255);
        assertThatThrownBy(() -> NativeNames.key("A".repeat(128)))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(256);
                    assertThat(e.limit()).isEqualTo(255);
                })
                .hasMessageContaining("key segment").hasMessageContaining("(128 characters)")
                .hasMessageContaining("is 256 characters").hasMessageContaining("limit is 255").hasMessageContaining("AAAA");
        assertThatThrownBy(() -> NativeNames.key("İ".repeat(43)))
                .isInstanceOf(RegistryLimitException.class).hasMessageContaining("(43 characters)").hasMessageContaining("is 258 characters");
        assertThatThrownBy(() -> NativeNames.keyPath(RegistryPath.of("ok", "B".repeat(200))))
                .isInstanceOf(RegistryLimitException.class).hasMessageContaining("(200 characters)").hasMessageContaining("is 400");
    }

    @Test
    void valueNamesAlwaysFitWindowsLimitButAreCheckedAllTheSame() {
        String worst = "ǅ".repeat(RegistryPath.MAX_SEGMENT_LENGTH);
        assertThat(NativeNames.value(worst)).hasSize(6 * 255);
        assertThat(NativeNames.MAX_MAPPED_VALUE_NAME + Reserved.REVISION_PREFIX.length()).isEqualTo(16_383);
        assertThatThrownBy(() -> NativeNames.checked("ǅ", "x".repeat(NativeNames.MAX_MAPPED_VALUE_NAME + 1),
                NativeNames.MAX_MAPPED_VALUE_NAME, "value name"))
                .isInstanceOf(RegistryLimitException.class).hasMessageContaining("value name").hasMessageContaining("16378");
    }

    @Test
    void keyPathsMapEverySegment() {
        assertThat(NativeNames.keyPath(RegistryPath.root())).isEmpty();
        assertThat(NativeNames.keyPath(RegistryPath.parse("Entities/TckDocument/_versions"))).isEqualTo("^entities\\^tck^document\\_versions");
    }
}
