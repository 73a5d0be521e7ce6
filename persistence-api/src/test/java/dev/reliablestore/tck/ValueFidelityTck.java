package dev.reliablestore.tck;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The provider test kit for value fidelity: a value read back {@code equals} the one saved, for
 * every kind of value an entity may hold ({@link TckValues}), and a type whose values could not be
 * read back is refused when its store is opened. A provider's test extends this class and
 * implements {@link #openFactory()} (a factory over a fresh, empty storage on every call);
 * providers whose storage outlives a factory override {@link #reopenFactory()}, and every check
 * then also reads from a new factory (so a provider cannot pass by handing back a cached instance).
 */
public abstract class ValueFidelityTck {

    /** A fresh, empty storage; called once before every test. */
    protected abstract StoreFactory openFactory();

    /** A new factory over the storage of the last {@link #openFactory()}, after it was closed; empty by default. */
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.empty();
    }

    private StoreFactory factory;

    @TempDir
    Path classes;

    @BeforeEach
    void open() {
        factory = openFactory();
    }

    @AfterEach
    void close() {
        if (factory != null) {
            factory.close();
        }
    }

    /** Saves every value, then checks each read back, from this factory and from a reopened one. */
    private <T> void roundTrip(String typeName, Class<T> type, Map<String, T> values) {
        EntityStore<T> store = factory.store(typeName, type);
        values.forEach(store::save);
        assertReadBack(store, values);
        Optional<StoreFactory> reopened;
        factory.close();
        factory = null;
        reopened = reopenFactory();
        if (reopened.isPresent()) {
            factory = reopened.get();
            assertReadBack(factory.store(typeName, type), values);
        }
    }

    private static <T> void assertReadBack(EntityStore<T> store, Map<String, T> values) {
        values.forEach((id, value) -> assertThat(store.get(id).orElseThrow().value()).as(id).isEqualTo(value));
    }

    /** A record holding one decimal. */
    public record Amount(BigDecimal value) {
    }

    /** A record of numbers beyond a long and a double. */
    public record Numbers(BigInteger integer, long min, long max, double tiny, double huge, double negativeZero, float f) {
    }

    /** A record of one string. */
    public record Text(String value) {
    }

    /** Empty and absent values. */
    public record Empties(List<String> list, Set<Integer> set, Map<String, String> map, String text,
                          BigDecimal decimal, Optional<String> optional, int[] array, List<List<Map<String, Amount>>> nested) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Empties e && java.util.Objects.equals(list, e.list) && java.util.Objects.equals(set, e.set)
                    && java.util.Objects.equals(map, e.map) && java.util.Objects.equals(text, e.text)
                    && java.util.Objects.equals(decimal, e.decimal) && java.util.Objects.equals(optional, e.optional)
                    && java.util.Arrays.equals(array, e.array) && java.util.Objects.equals(nested, e.nested);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(list, set, map, text, decimal, optional, java.util.Arrays.hashCode(array), nested);
        }
    }

    /** Private fields and nothing else: Jackson sees no property, so it would be stored as {@code {}}. */
    public static final class PrivateFields {
        @SuppressWarnings("unused")
        private final String name;

        public PrivateFields(String name) {
            this.name = name;
        }
    }

    @Test
    void everyValueKindReadsBackEqual() {
        roundTrip("TckValues", TckValues.class, Map.of("all", TckValues.sample()));
    }

    @Test
    void decimalsReadBackWithTheirScaleAndMagnitude() {
        Map<String, Amount> values = new java.util.LinkedHashMap<>();
        List<BigDecimal> edges = new ArrayList<>(TckValues.edgeDecimals());
        edges.add(new BigDecimal("-1.0E-999"));
        edges.add(new BigDecimal(new BigInteger("9".repeat(500)), 250));
        for (int i = 0; i < edges.size(); i++) {
            values.put("d" + i, new Amount(edges.get(i)));
        }
        roundTrip("Amount", Amount.class, values);
    }

    @Test
    void largeNumbersReadBackExactly() {
        roundTrip("Numbers", Numbers.class, Map.of(
                "big", new Numbers(new BigInteger("-" + "9".repeat(900)), Long.MIN_VALUE, Long.MAX_VALUE,
                        Double.MIN_VALUE, Double.MAX_VALUE, -0.0d, Float.MAX_VALUE),
                "small", new Numbers(BigInteger.ZERO, 0, 1, 0.1, 1e308, 0.0, 1.1f)));
    }

    @Test
    void stringsReadBackUnchangedIncludingUnpairedSurrogates() {
        Map<String, Text> values = new java.util.LinkedHashMap<>();
        List<String> strings = TckValues.edgeStrings();
        for (int i = 0; i < strings.size(); i++) {
            values.put("s" + i, new Text(strings.get(i)));
        }
        values.put("null", new Text(null));
        roundTrip("Text", Text.class, values);
    }

    /** An entity that is one JSON string, not an object: its bytes end at a closing quote a parser reads last. */
    @Test
    void anEntityThatIsAStringReadsBackEqual() {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        List<String> strings = TckValues.edgeStrings();
        for (int i = 0; i < strings.size(); i++) {
            values.put("s" + i, strings.get(i));
        }
        roundTrip("Note", String.class, values);
    }

    /** java.time values and enums are written as strings too. */
    @Test
    void anEntityThatIsAZonedDateTimeReadsBackEqual() {
        roundTrip("Moment", java.time.ZonedDateTime.class, Map.of(
                "region", java.time.ZonedDateTime.of(2026, 3, 29, 2, 30, 0, 123_456_789, java.time.ZoneId.of("Europe/Paris")),
                "offset", java.time.ZonedDateTime.of(2026, 12, 6, 4, 20, 0, 0, java.time.ZoneOffset.ofHours(-3))));
    }

    /** The java.sql date types and java.util.Date. */
    public record OldDates(java.sql.Timestamp timestamp, java.sql.Date day, java.util.Date instant) {
    }

    /** Jackson alone keeps a Timestamp's milliseconds only and reads a java.sql.Date as midnight UTC: a day early west of UTC. */
    @Test
    void javaSqlDatesAndTimestampsReadBackEqualInAnyTimeZone() {
        java.util.TimeZone zone = java.util.TimeZone.getDefault();
        java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("America/Los_Angeles"));
        try {
            java.sql.Timestamp timestamp = new java.sql.Timestamp(1_717_259_400_123L);
            timestamp.setNanos(123_456_789);
            roundTrip("OldDates", OldDates.class, Map.of("d", new OldDates(timestamp, java.sql.Date.valueOf("2024-06-01"),
                    new java.util.Date(1_717_259_400_123L))));
        } finally {
            java.util.TimeZone.setDefault(zone);
        }
    }

    /** A record holding a Calendar. */
    public record Appointment(java.util.Calendar at) {
    }

    /** Stored without its zone, a Calendar reads back in UTC: never equal, so its type is refused. */
    @Test
    void aTypeHoldingACalendarIsRefusedWhenItsStoreIsOpened() {
        assertThatThrownBy(() -> factory.store("Appointment", Appointment.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property at").hasMessageContaining("ZonedDateTime");
    }

    /** A key class Jackson has no key form for: written with its {@code toString()}, read back through its String constructor. */
    public record Sku(String code) {
    }

    /** A record whose map is keyed by {@link Sku}. */
    public record Stock(String warehouse, Map<Sku, Integer> counts) {
    }

    /** A record whose map, nested in a list, is keyed by a Calendar. */
    public record Agenda(List<Map<java.util.Calendar, String>> days) {
    }

    /**
     * A map key is read back from its JSON name: a key class with no key form of its own ({@code record Sku(String code)})
     * was written as {@code "Sku[code=A-1]"} and read back as {@code Sku("Sku[code=A-1]")}, and a Calendar key in UTC.
     */
    @Test
    void aMapKeyThatWouldNotReadBackEqualIsRefusedWhenItsStoreIsOpened() {
        assertThatThrownBy(() -> factory.store("Stock", Stock.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(Stock.class.getName())
                .hasMessageContaining("property counts")
                .hasMessageContaining("key of type " + Sku.class.getName())
                .hasMessageContaining("toString()");
        assertThatThrownBy(() -> factory.store("Agenda", Agenda.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property days[]")
                .hasMessageContaining("ZonedDateTime");
    }

    /** An enum used as a map key. */
    public enum Color { RED, GREEN }

    /** Maps keyed by every kind of key Jackson reads back equal. */
    public record Keyed(Map<String, Integer> strings, Map<java.util.UUID, String> uuids, Map<Color, Integer> colors,
                        Map<java.time.LocalDate, Integer> days, Map<Long, String> longs, Map<BigDecimal, Integer> decimals,
                        Map<java.time.YearMonth, Integer> months, java.util.SortedMap<java.time.Instant, Integer> instants,
                        Map<java.util.Date, Integer> dates) {
    }

    /** Map keys of the types that read back exactly, at their edges (a month of year 10000 was written as "10000-01" and never read). */
    @Test
    void mapKeysOfExactTypesReadBackEqual() {
        Map<java.time.YearMonth, Integer> months = new java.util.LinkedHashMap<>();
        months.put(java.time.YearMonth.of(2024, 6), 1);
        months.put(java.time.YearMonth.of(10000, 1), 2);
        months.put(java.time.YearMonth.of(-10000, 12), 3);
        months.put(java.time.YearMonth.of(java.time.Year.MAX_VALUE, 12), 4);
        Keyed keyed = new Keyed(Map.of("", 0, "a", 1), Map.of(java.util.UUID.randomUUID(), "u"), Map.of(Color.RED, 1, Color.GREEN, 2),
                Map.of(java.time.LocalDate.of(2024, 6, 1), 1, java.time.LocalDate.of(10000, 1, 1), 2, java.time.LocalDate.MIN, 3),
                Map.of(Long.MIN_VALUE, "min", Long.MAX_VALUE, "max"),
                Map.of(new BigDecimal("12.30"), 1, new BigDecimal("1E+400"), 2), months,
                new java.util.TreeMap<>(Map.of(java.time.Instant.ofEpochSecond(1, 5), 1, java.time.Instant.MAX, 2)),
                Map.of(new java.util.Date(0), 1, new java.util.Date(253_402_300_799_999L), 2));
        roundTrip("Keyed", Keyed.class, Map.of("k", keyed));
    }

    /** A sealed shape whose subtypes are not named: Jackson 2 does not read {@code permits}. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME)
    public sealed interface Figure permits Dot, Segment {
    }

    /** A {@link Figure}. */
    public record Dot(double x, double y) implements Figure {
    }

    /** A {@link Figure}. */
    public record Segment(Dot from, Dot to) implements Figure {
    }

    /** A record of figures. */
    public record Sketch(List<Figure> figures) {
    }

    /** A sealed shape that names one of its two subtypes. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME)
    @com.fasterxml.jackson.annotation.JsonSubTypes(@com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Ring.class, name = "ring"))
    public sealed interface Badge permits Ring, Star {
    }

    /** A {@link Badge}. */
    public record Ring(double radius) implements Badge {
    }

    /** A {@link Badge} missing from its {@code @JsonSubTypes}. */
    public record Star(int points) implements Badge {
    }

    /** A record holding a badge. */
    public record Medal(String name, Badge badge) {
    }

    /** A sealed shape that names every subtype: the one a sealed type needs. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME)
    @com.fasterxml.jackson.annotation.JsonSubTypes({
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Disc.class, name = "disc"),
            @com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Box.class, name = "box")})
    public sealed interface Form permits Disc, Box {
    }

    /** A {@link Form}. */
    public record Disc(double radius) implements Form {
    }

    /** A {@link Form}. */
    public record Box(double width, double height, List<Form> inside) implements Form {
    }

    /** A record of forms. */
    public record Layout(List<Form> forms) {
    }

    /** A named subtype, registered, that holds a Calendar. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME)
    @com.fasterxml.jackson.annotation.JsonSubTypes(@com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Timed.class, name = "timed"))
    public interface Event {
    }

    /** An {@link Event} holding a Calendar. */
    public record Timed(java.util.Calendar at) implements Event {
    }

    /** A record of events. */
    public record Timeline(List<Event> events) {
    }

    /**
     * A polymorphic type is checked through its subtypes: a sealed type's permitted subclass missing from its
     * {@code @JsonSubTypes} was written (its class's simple name as the type id) and never read back, and a registered
     * subtype was not checked at all.
     */
    @Test
    void aPolymorphicTypeIsCheckedThroughItsSubtypesWhenItsStoreIsOpened() {
        assertThatThrownBy(() -> factory.store("Sketch", Sketch.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property figures[]")
                .hasMessageContaining(Dot.class.getName())
                .hasMessageContaining("@JsonSubTypes");
        assertThatThrownBy(() -> factory.store("Medal", Medal.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property badge")
                .hasMessageContaining(Star.class.getName())
                .hasMessageContaining("@JsonSubTypes");
        assertThatThrownBy(() -> factory.store("Timeline", Timeline.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property events[]")
                .hasMessageContaining("ZonedDateTime");
    }

    @Test
    void aSealedTypeNamingEverySubtypeReadsBackEqual() {
        roundTrip("Layout", Layout.class, Map.of("l", new Layout(List.of(new Disc(1.5),
                new Box(2, 3, List.of(new Disc(0.5), new Box(1, 1, List.of())))))));
    }

    /** A record holding an expiry. */
    public record Expiry(String name, java.util.Date expires) {
    }

    /**
     * A {@code java.util.Date} Jackson writes but cannot read back (a year past 9999, {@code new Date(Long.MAX_VALUE)} as
     * "never", or before year 1) is refused at save; the years every Jackson 2 reads stay exact.
     */
    @Test
    void aDateThatCouldNotBeReadBackIsRefusedWhenSavedAndNothingIsWritten() {
        EntityStore<Expiry> store = factory.store("Expiry", Expiry.class);
        for (long millis : new long[] {Long.MAX_VALUE, 253_402_300_800_000L, Long.MIN_VALUE, -62_135_769_600_001L}) {
            assertThatThrownBy(() -> store.save("never", new Expiry("never", new java.util.Date(millis))))
                    .as("%d", millis)
                    .isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                    .hasMessageContaining("could not be read back")
                    .hasMessageContaining("expires")
                    .hasMessageContaining("9999");
            assertThat(store.get("never")).isEmpty();
        }
        Map<String, Expiry> values = new java.util.LinkedHashMap<>();
        for (long millis : new long[] {0, -62_135_596_800_000L, -62_135_769_600_000L, 253_402_300_799_999L, 1_717_259_400_123L}) {
            values.put("d" + values.size(), new Expiry("d", new java.util.Date(millis)));
        }
        roundTrip("Expiry", Expiry.class, values);
    }

    /** A plain entity class (not polymorphic). */
    public static class Account {
        public String owner;
    }

    /** A subclass with a property of its own, which {@link Account}'s serializer does not write. */
    public static class PremiumAccount extends Account {
        public int points;
    }

    /**
     * A subclass value given to a store of its plain superclass is refused when saved: it was written as
     * the superclass and read back as one, its own properties gone, with no error.
     */
    @Test
    void aSubclassValueThatWouldReadBackWithoutItsOwnPropertiesIsRefusedWhenSavedAndNothingIsWritten() {
        EntityStore<Account> store = factory.store("Account", Account.class);
        PremiumAccount premium = new PremiumAccount();
        premium.owner = "ann";
        premium.points = 7;
        assertThatThrownBy(() -> store.save("premium", premium))
                .isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                .hasMessageContaining("PremiumAccount adds");
        assertThat(store.get("premium")).isEmpty();
        Account plain = new Account();
        plain.owner = "bob";
        store.save("plain", plain);
        assertThat(store.get("plain")).map(v -> v.value().owner).contains("bob");
    }

    /** A java.sql.Date day. */
    public record SqlDay(String id, java.sql.Date day) {
    }

    /**
     * A {@code java.sql.Date} is its day: one outside years 1 to 9999 is refused when saved (a BC day was
     * written as an AD one, and read back as a different day without an error).
     */
    @Test
    void aSqlDateOutsideTheReadableYearsIsRefusedWhenSavedAndNothingIsWritten() {
        EntityStore<SqlDay> store = factory.store("SqlDay", SqlDay.class);
        // the last two days of 1 BC too: written "0001-12-31" and "0001-12-30", they read back as days of AD 1
        for (long millis : new long[] {Long.MAX_VALUE, 253_402_300_800_000L + 2 * 86_400_000L, Long.MIN_VALUE, -62_135_769_600_000L - 400 * 86_400_000L,
                -62_135_769_600_000L - 86_400_000L, -62_135_769_600_000L - 2 * 86_400_000L}) {
            assertThatThrownBy(() -> store.save("odd", new SqlDay("odd", new java.sql.Date(millis))))
                    .as("%d", millis)
                    .isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                    .hasMessageContaining("could not be read back")
                    .hasMessageContaining("day")
                    .hasMessageContaining("9999");
            assertThat(store.get("odd")).isEmpty();
        }
        Map<String, SqlDay> values = new java.util.LinkedHashMap<>();
        for (String day : new String[] {"0001-01-01", "1970-01-01", "9999-12-31", "2024-02-29"}) {
            values.put("d" + values.size(), new SqlDay("d", java.sql.Date.valueOf(day)));
        }
        roundTrip("SqlDay", SqlDay.class, values);
    }

    @Test
    void emptyCollectionsAndNullsReadBackAsTheyWere() {
        roundTrip("Empties", Empties.class, Map.of(
                "empty", new Empties(List.of(), Set.of(), Map.of(), "", BigDecimal.ZERO, Optional.empty(), new int[0], List.of(List.of(Map.of()))),
                "nulls", new Empties(null, null, null, null, null, Optional.empty(), null, null)));
    }

    /** A record holding any JSON value: lists of lists, for nesting. */
    public record Nested(Object value) {
    }

    /**
     * The deepest value and the longest number the default codec writes read back, and the entity
     * can still be overwritten and deleted: a provider's own framing of the stored bytes must not
     * add a level or a limit that makes an acknowledged write unreadable.
     */
    @Test
    void theDeepestValueAndLongestNumberTheCodecWritesReadBackAndStayWritable() {
        Object deepest = "leaf";
        for (int level = 1; level < dev.reliablestore.codec.JacksonEntityCodec.MAX_NESTING_DEPTH; level++) {
            deepest = List.of(deepest); // the record's own object is the last level
        }
        Nested deep = new Nested(deepest);
        Numbers longest = new Numbers(new BigInteger("9".repeat(dev.reliablestore.codec.JacksonEntityCodec.MAX_NUMBER_LENGTH)),
                0, 1, 0.1, 1e308, 0.0, 1.1f);
        EntityStore<Nested> nested = factory.store("Nested", Nested.class);
        EntityStore<Numbers> numbers = factory.store("Numbers", Numbers.class);
        nested.save("deep", deep);
        numbers.save("longest", longest);
        assertThat(nested.get("deep").orElseThrow().value()).isEqualTo(deep);
        assertThat(numbers.get("longest").orElseThrow().value()).isEqualTo(longest);
        assertThat(nested.save("deep", new Nested("shallow"))).isEqualTo(2);
        assertThat(numbers.delete("longest")).isTrue();
        assertThat(numbers.get("longest")).isEmpty();
        roundTrip("Nested", Nested.class, Map.of("deep", deep));
    }

    /** A value the codec could not read back (a number longer than its read limit) is refused at save, not at read. */
    @Test
    void aValueThatCouldNotBeReadBackIsRefusedWhenSavedAndNothingIsWritten() {
        EntityStore<Numbers> store = factory.store("Numbers", Numbers.class);
        Numbers huge = new Numbers(new BigInteger("9".repeat(dev.reliablestore.codec.JacksonEntityCodec.MAX_NUMBER_LENGTH + 1)),
                0, 1, 0.1, 1e308, 0.0, 1.1f);
        assertThatThrownBy(() -> store.save("huge", huge)).isInstanceOf(dev.reliablestore.api.PersistenceException.class)
                .hasMessageContaining(String.valueOf(dev.reliablestore.codec.JacksonEntityCodec.MAX_NUMBER_LENGTH));
        assertThat(store.get("huge")).isEmpty();
    }

    @Test
    void aTypeWithNothingToWriteIsRefusedWhenItsStoreIsOpened() {
        assertThatThrownBy(() -> factory.store("PrivateFields", PrivateFields.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(PrivateFields.class.getName())
                .hasMessageContaining("getter");
    }

    /** A shape without a declared subtype: written with its class's fields, read back as... nothing Jackson can create. */
    public interface Shape {
        double area();
    }

    /** A {@link Shape}. */
    public record Square(double side) implements Shape {
        @Override
        public double area() {
            return side * side;
        }
    }

    /** An entity whose property is an interface. */
    public record Drawing(String title, List<Shape> shapes) {
    }

    /** An abstract entity type with a visible field: written with the subclass's fields dropped, never read back. */
    public abstract static class Vehicle {
        public String name;
    }

    /** An interface that names its subtypes: its values are read back. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.NAME)
    @com.fasterxml.jackson.annotation.JsonSubTypes(@com.fasterxml.jackson.annotation.JsonSubTypes.Type(value = Circle.class, name = "circle"))
    public interface NamedShape {
    }

    /** A {@link NamedShape}. */
    public record Circle(double radius) implements NamedShape {
    }

    /** Properties of abstract types Jackson does read: a named subtype, and a scalar into CharSequence. */
    public record Poster(List<NamedShape> shapes, CharSequence caption) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Poster p && shapes.equals(p.shapes) && caption.toString().equals(p.caption.toString());
        }

        @Override
        public int hashCode() {
            return shapes.hashCode();
        }
    }

    @Test
    void aTypeWithAPropertyThatCouldNotBeReadBackIsRefusedWhenItsStoreIsOpened() throws Exception {
        assertThatThrownBy(() -> factory.store("Drawing", Drawing.class))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining(Drawing.class.getName())
                .hasMessageContaining("property shapes[]")
                .hasMessageContaining("@JsonTypeInfo");
        assertThatThrownBy(() -> factory.store("Vehicle", Vehicle.class))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("is abstract");
        // a nested value whose only constructor's parameters have no names (compiled without -parameters)
        Class<?> framed = compileWithoutParameterNames("Framed", """
                public class Framed {
                    public String title;
                    public Frame frame;
                    public static class Frame {
                        private final int width;
                        private final int height;
                        public Frame(int width, int height) { this.width = width; this.height = height; }
                        public int getWidth() { return width; }
                        public int getHeight() { return height; }
                    }
                }
                """);
        assertThatThrownBy(() -> factory.store("Framed", framed))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("property frame")
                .hasMessageContaining("Framed$Frame");
        roundTrip("Poster", Poster.class, Map.of("p", new Poster(List.of(new Circle(1.5)), "Sale")));
    }

    @Test
    void aCreatorWithoutParameterNamesIsRefusedWhenItsStoreIsOpened() throws Exception {
        Class<?> type = compileWithoutParameterNames("NoNames", """
                public class NoNames {
                    private final String name;
                    private final int count;
                    @com.fasterxml.jackson.annotation.JsonCreator
                    public NoNames(String name, int count) { this.name = name; this.count = count; }
                    public String getName() { return name; }
                    public int getCount() { return count; }
                }
                """);
        assertThatThrownBy(() -> factory.store("NoNames", type))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("NoNames")
                .hasMessageContaining("-parameters")
                .hasMessageContaining("@JsonProperty");
    }

    /** A class compiled as a build without {@code -parameters} would compile it. */
    private Class<?> compileWithoutParameterNames(String name, String source) throws Exception {
        Path src = Files.writeString(classes.resolve(name + ".java"), source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-classpath", System.getProperty("java.class.path"),
                "-d", classes.toString(), src.toString());
        assertThat(rc).as("javac exit code").isZero();
        URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader());
        return loader.loadClass(name);
    }
}
