package dev.reliablestore.codec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.KeyDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import com.fasterxml.jackson.databind.module.SimpleModule;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import java.util.Calendar;
import java.util.Currency;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The default codec's checks: map keys and polymorphic types at open, dates at save. */
class JacksonEntityCodecTest {

    private static final JacksonEntityCodec CODEC = JacksonEntityCodec.defaults();

    private static <T> T roundTrip(JacksonEntityCodec codec, Class<T> type, T value) throws CodecException {
        EntityCodec.TypeCodec<T> typed = codec.forType(type);
        T back = typed.decode(typed.encode(value));
        assertThat(back).isEqualTo(value);
        return back;
    }

    private static String json(JacksonEntityCodec codec, Object value) throws CodecException {
        @SuppressWarnings("unchecked")
        EntityCodec.TypeCodec<Object> typed = (EntityCodec.TypeCodec<Object>) codec.forType(value.getClass());
        return new String(typed.encode(value), StandardCharsets.UTF_8);
    }

    // ---- map keys -------------------------------------------------------------------------------

    /** A key class with no key form: its record toString() is written, its String constructor reads that back. */
    public record Sku(String code) {
    }

    /** A map keyed by {@link Sku}. */
    public record Stock(Map<Sku, Integer> counts) {
    }

    @Test
    void aKeyWrittenWithToStringIsRefusedNamingThePropertyTheKeyTypeAndWhy() {
        assertThatThrownBy(() -> CODEC.forType(Stock.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property counts")
                .hasMessageContaining("Map key of type " + Sku.class.getName())
                .hasMessageContaining("toString()")
                .hasMessageContaining("String constructor")
                .hasMessageContaining("Sku[code=reliablestore-key-probe]")
                .hasMessageContaining("KeyDeserializer");
    }

    /** The usual id wrapper: its toString() is the id, a String constructor reads it, equals compares ids. */
    public static final class OrderId {
        private final String id;

        public OrderId(String id) {
            this.id = id;
        }

        @Override
        public String toString() {
            return id;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OrderId other && other.id.equals(id);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }

    /** A map keyed by {@link OrderId}. */
    public record Orders(Map<OrderId, Integer> m) {
    }

    /** Was refused by the key check although it reads back equal: its toString() is what its String constructor takes. */
    @Test
    void anIdWrapperKeyWhoseToStringReadsBackIsAccepted() throws Exception {
        Orders orders = new Orders(Map.of(new OrderId("A-1"), 1));
        roundTrip(CODEC, Orders.class, orders);
        assertThat(json(CODEC, orders)).isEqualTo("{\"m\":{\"A-1\":1}}");
        roundTrip(JacksonEntityCodec.of(new ObjectMapper()), Orders.class, orders);
    }

    /** A key class read through a {@code @JsonCreator} factory; its toString() is its code. */
    public static final class Ticket {
        private final String code;

        private Ticket(String code) {
            this.code = code;
        }

        @JsonCreator
        public static Ticket of(String code) {
            return new Ticket(code);
        }

        @Override
        public String toString() {
            return code;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ticket other && other.code.equals(code);
        }

        @Override
        public int hashCode() {
            return code.hashCode();
        }
    }

    /** A map keyed by {@link Ticket}. */
    public record Tickets(Map<Ticket, Integer> m) {
    }

    /** Maps keyed by File and by Class: Jackson reads both back from what it writes. */
    public record FilesAndClasses(Map<File, Integer> files, Map<Class<?>, Integer> classes) {
    }

    @Test
    void keysJacksonReadsBackFromWhatItWritesAreAccepted() throws Exception {
        roundTrip(CODEC, Tickets.class, new Tickets(Map.of(Ticket.of("A-1"), 1)));
        roundTrip(CODEC, FilesAndClasses.class, new FilesAndClasses(Map.of(new File("a/b"), 1), Map.of(String.class, 2)));
    }

    /** A property giving only a key serializer: its Sku keys are written as their code and read by the String constructor. */
    public record SerializerOnly(@JsonSerialize(keyUsing = SkuKeyWriter.class) Map<Sku, Integer> counts) {
    }

    @Test
    void aPropertyWithOnlyItsOwnKeySerializerIsAccepted() throws Exception {
        SerializerOnly value = new SerializerOnly(Map.of(new Sku("A-1"), 5));
        roundTrip(CODEC, SerializerOnly.class, value);
        assertThat(json(CODEC, value)).isEqualTo("{\"counts\":{\"A-1\":5}}");
    }

    /** A key class with no String constructor or factory, read by a module's KeyDeserializer; its toString() is its name. */
    public static final class Tag {
        private final String name;

        private Tag(String name) {
            this.name = name;
        }

        static Tag named(String name) {
            return new Tag(name);
        }

        @Override
        public String toString() {
            return name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tag other && other.name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }
    }

    /** A map keyed by {@link Tag}. */
    public record Tagged(Map<Tag, Integer> m) {
    }

    /** A module adding only a KeyDeserializer: Jackson writes the key with toString(), the module reads it back. */
    @Test
    void aModuleGivingOnlyAKeyDeserializerThatReadsTheWrittenKeyIsAccepted() throws Exception {
        JacksonEntityCodec tags = JacksonEntityCodec.withModules(new SimpleModule("tags").addKeyDeserializer(Tag.class, new KeyDeserializer() {
            @Override
            public Object deserializeKey(String key, DeserializationContext c) {
                return Tag.named(key);
            }
        }));
        roundTrip(tags, Tagged.class, new Tagged(Map.of(Tag.named("t-1"), 1)));
        // one that reads a record's toString() back: "Sku[code=A-1]" is Sku("A-1") again
        JacksonEntityCodec skus = JacksonEntityCodec.withModules(new SimpleModule("skus").addKeyDeserializer(Sku.class, new KeyDeserializer() {
            @Override
            public Object deserializeKey(String key, DeserializationContext c) {
                String prefix = "Sku[code=";
                return new Sku(key.startsWith(prefix) && key.endsWith("]") ? key.substring(prefix.length(), key.length() - 1) : key);
            }
        }));
        Stock stock = new Stock(Map.of(new Sku("A-1"), 5));
        roundTrip(skus, Stock.class, stock);
        assertThat(json(skus, stock)).isEqualTo("{\"counts\":{\"Sku[code=A-1]\":5}}");
    }

    /** A map keyed by a class Jackson has no key deserializer for. */
    public record Paths(Map<Path, String> files) {
    }

    /** Refused already when Jackson builds the entity's reader (before the properties are walked: no property named). */
    @Test
    void aKeyWithNoKeyDeserializerIsRefused() {
        assertThatThrownBy(() -> CODEC.forType(Paths.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("Key deserializer")
                .hasMessageContaining("java.nio.file.Path");
    }

    /** Keys of a java.sql type: written as a java.util.Date, read through valueOf(String), which fails. */
    public record Stamps(Map<java.sql.Timestamp, String> at) {
    }

    @Test
    void aTimestampKeyIsRefused() {
        assertThatThrownBy(() -> CODEC.forType(Stamps.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("Map key of type java.sql.Timestamp");
    }

    /** Keys nested in lists, optionals and map values are checked too. */
    public record Deep(List<java.util.Optional<Map<String, Map<Sku, String>>>> deep) {
    }

    @Test
    void aKeyNestedInContainersIsChecked() {
        assertThatThrownBy(() -> CODEC.forType(Deep.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property deep[][][]")
                .hasMessageContaining(Sku.class.getName());
    }

    /** An enum key. */
    public enum Level { LOW, HIGH; @Override public String toString() { return "level " + name(); } }

    /** Maps keyed by every type the check lets through. */
    public record AllKeys(Map<String, Integer> string, Map<Integer, Integer> integer, Map<Long, Integer> longs,
                          Map<Short, Integer> shorts, Map<Byte, Integer> bytes, Map<Boolean, Integer> booleans,
                          Map<Character, Integer> chars, Map<Float, Integer> floats, Map<Double, Integer> doubles,
                          Map<BigInteger, Integer> bigIntegers, Map<BigDecimal, Integer> bigDecimals, Map<Level, Integer> levels,
                          Map<UUID, Integer> uuids, Map<URI, Integer> uris, Map<Currency, Integer> currencies,
                          Map<Locale, Integer> locales, Map<LocalDate, Integer> localDates,
                          Map<LocalDateTime, Integer> localDateTimes, Map<LocalTime, Integer> localTimes,
                          Map<Instant, Integer> instants, Map<OffsetDateTime, Integer> offsetDateTimes,
                          Map<ZonedDateTime, Integer> zonedDateTimes, Map<OffsetTime, Integer> offsetTimes,
                          Map<Duration, Integer> durations, Map<Period, Integer> periods, Map<Year, Integer> years,
                          Map<YearMonth, Integer> yearMonths, Map<MonthDay, Integer> monthDays, Map<ZoneId, Integer> zoneIds,
                          Map<ZoneOffset, Integer> zoneOffsets, Map<java.time.DayOfWeek, Integer> days, Map<Date, Integer> dates) {
    }

    @Test
    void keysOfTheAllowedTypesReadBackEqual() throws Exception {
        AllKeys all = new AllKeys(Map.of("", 1, "a", 2), Map.of(Integer.MIN_VALUE, 1), Map.of(Long.MAX_VALUE, 1),
                Map.of((short) -3, 1), Map.of((byte) -3, 1), Map.of(true, 1, false, 0), Map.of('x', 1, '\ud800', 2),
                Map.of(1.1f, 1, -0.0f, 2, Float.NaN, 3), Map.of(0.1, 1, -0.0, 2, Double.NEGATIVE_INFINITY, 3, Double.MAX_VALUE, 4),
                Map.of(new BigInteger("-" + "9".repeat(50)), 1), Map.of(new BigDecimal("12.30"), 1, new BigDecimal("1E+400"), 2),
                Map.of(Level.LOW, 1, Level.HIGH, 2), Map.of(UUID.randomUUID(), 1), Map.of(URI.create("http://a/b?c#d"), 1),
                Map.of(Currency.getInstance("EUR"), 1), Map.of(Locale.US, 1, Locale.forLanguageTag("zh-Hans-CN"), 2, Locale.ROOT, 3),
                Map.of(LocalDate.MIN, 1, LocalDate.MAX, 2), Map.of(LocalDateTime.of(2024, 6, 1, 0, 0), 1, LocalDateTime.MAX, 2),
                Map.of(LocalTime.MIDNIGHT, 1, LocalTime.MAX, 2), Map.of(Instant.MIN, 1, Instant.MAX, 2, Instant.ofEpochSecond(1, 5), 3),
                Map.of(OffsetDateTime.MAX, 1, OffsetDateTime.MIN, 2),
                Map.of(ZonedDateTime.of(2024, 10, 27, 2, 30, 0, 1, ZoneId.of("Europe/Paris")), 1,
                        ZonedDateTime.of(2024, 6, 1, 0, 0, 0, 0, ZoneOffset.UTC), 2),
                Map.of(OffsetTime.MAX, 1), Map.of(Duration.ofMillis(1500), 1, Duration.ofSeconds(Long.MIN_VALUE), 2),
                Map.of(Period.of(1, -2, 3), 1), Map.of(Year.of(Year.MIN_VALUE), 1, Year.of(10000), 2),
                Map.of(YearMonth.of(9999, 12), 1, YearMonth.of(10000, 1), 2, YearMonth.of(Year.MAX_VALUE, 12), 3,
                        YearMonth.of(Year.MIN_VALUE, 1), 4),
                Map.of(MonthDay.of(2, 29), 1), Map.of(ZoneId.of("Europe/Paris"), 1, ZoneOffset.ofHours(2), 2, ZoneId.of("UTC"), 3),
                Map.of(ZoneOffset.UTC, 1), Map.of(java.time.DayOfWeek.MONDAY, 1),
                Map.of(new Date(-62_135_769_600_000L), 1, new Date(253_402_300_799_999L), 2));
        roundTrip(CODEC, AllKeys.class, all);
    }

    /** A map keyed by month. */
    public record Months(Map<YearMonth, Integer> m) {
    }

    /** A month key of a year past 9999 is written with its sign, the form Jackson's key reader takes; other months as before. */
    @Test
    void aMonthKeyIsWrittenAsBeforeUpToYear9999() throws Exception {
        Map<YearMonth, Integer> months = new LinkedHashMap<>();
        months.put(YearMonth.of(2024, 6), 1);
        months.put(YearMonth.of(-5, 1), 2);
        months.put(YearMonth.of(10000, 1), 3);
        assertThat(json(CODEC, new Months(months))).isEqualTo("{\"m\":{\"2024-06\":1,\"-0005-01\":2,\"+10000-01\":3}}");
    }

    /** A key class with a key form of its own: {@code @JsonValue} out, its String constructor in. */
    public record Code(@JsonValue String code) {
    }

    /** A map keyed by {@link Code}. */
    public record Coded(Map<Code, Integer> counts) {
    }

    /** A map keyed by {@link Sku}, given a key serializer and deserializer pair by a module. */
    @Test
    void aKeyClassWithAKeyFormOfItsOwnIsAccepted() throws Exception {
        roundTrip(CODEC, Coded.class, new Coded(Map.of(new Code("A-1"), 5)));
        SimpleModule skuKeys = new SimpleModule("sku-keys")
                .addKeySerializer(Sku.class, new JsonSerializer<Sku>() {
                    @Override
                    public void serialize(Sku value, JsonGenerator g, SerializerProvider p) throws IOException {
                        g.writeFieldName(value.code());
                    }
                })
                .addKeyDeserializer(Sku.class, new KeyDeserializer() {
                    @Override
                    public Object deserializeKey(String key, DeserializationContext c) {
                        return new Sku(key);
                    }
                });
        JacksonEntityCodec codec = JacksonEntityCodec.withModules(skuKeys);
        roundTrip(codec, Stock.class, new Stock(Map.of(new Sku("A-1"), 5)));
        assertThat(json(codec, new Stock(Map.of(new Sku("A-1"), 5)))).isEqualTo("{\"counts\":{\"A-1\":5}}");
    }

    /** The key form a property chose: its own key serializer and deserializer. */
    public record Annotated(@com.fasterxml.jackson.databind.annotation.JsonSerialize(keyUsing = SkuKeyWriter.class)
                            @com.fasterxml.jackson.databind.annotation.JsonDeserialize(keyUsing = SkuKeyReader.class)
                            Map<Sku, Integer> counts) {
    }

    /** Writes a {@link Sku} key as its code. */
    public static final class SkuKeyWriter extends JsonSerializer<Sku> {
        @Override
        public void serialize(Sku value, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeFieldName(value.code());
        }
    }

    /** Reads a {@link Sku} key from its code. */
    public static final class SkuKeyReader extends KeyDeserializer {
        @Override
        public Object deserializeKey(String key, DeserializationContext c) {
            return new Sku(key);
        }
    }

    @Test
    void aPropertyWithItsOwnKeyFormIsAccepted() throws Exception {
        roundTrip(CODEC, Annotated.class, new Annotated(Map.of(new Sku("A-1"), 5)));
    }

    /** A map keyed by Calendar. */
    public record CalendarKeys(Map<Calendar, String> at) {
    }

    /** A Calendar key reads back in the mapper's zone: refused as a Calendar value is, kept by a mapper with a zone of its own. */
    @Test
    void aCalendarKeyFollowsTheCalendarRule() throws Exception {
        assertThatThrownBy(() -> CODEC.forType(CalendarKeys.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("Map key of type java.util.Calendar")
                .hasMessageContaining("ZonedDateTime");
        TimeZone zone = TimeZone.getTimeZone("Europe/Paris");
        JacksonEntityCodec own = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder().defaultTimeZone(zone).build());
        Calendar at = new GregorianCalendar(zone, Locale.getDefault());
        at.setTimeInMillis(1_717_259_400_123L);
        CalendarKeys keys = new CalendarKeys(Map.of(at, "x"));
        EntityCodec.TypeCodec<CalendarKeys> typed = own.forType(CalendarKeys.class);
        assertThat(typed.decode(typed.encode(keys)).at().keySet().iterator().next().getTimeInMillis()).isEqualTo(1_717_259_400_123L);
    }

    /** Map<Object, V> holds what the JSON says, as every untyped place: the key comes back a String. */
    public record Untyped(Map<Object, Integer> any) {
    }

    @Test
    void anUntypedKeyIsAccepted() throws Exception {
        assertThat(CODEC.forType(Untyped.class).decode("{\"any\":{\"5\":1}}".getBytes(StandardCharsets.UTF_8)).any())
                .isEqualTo(Map.of("5", 1));
    }

    // ---- polymorphic types ----------------------------------------------------------------------

    /** A sealed shape with a sealed abstract branch; the concrete class under the branch is not named. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({@JsonSubTypes.Type(value = Leaf.class, name = "leaf"), @JsonSubTypes.Type(value = Branch.class, name = "branch")})
    public sealed interface Tree permits Leaf, Branch {
    }

    /** A {@link Tree}. */
    public record Leaf(int value) implements Tree {
    }

    /** An abstract sealed {@link Tree}: only its concrete subclasses are ever stored. */
    public abstract static sealed class Branch implements Tree permits Fork {
    }

    /** A {@link Branch} missing from {@code @JsonSubTypes}. */
    public static final class Fork extends Branch {
        public List<Tree> children = List.of();
    }

    /** A record holding a tree. */
    public record Forest(Tree tree) {
    }

    @Test
    void aConcreteClassUnderASealedAbstractSubtypeMustBeNamedToo() {
        assertThatThrownBy(() -> CODEC.forType(Forest.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property tree")
                .hasMessageContaining(Fork.class.getName())
                .hasMessageContaining("@JsonSubTypes");
    }

    /** A plain (not polymorphic) entity class with a subclass. */
    public static class Account {
        public String owner;
    }

    /** Adds a property {@link Account}'s serializer does not write. */
    public static class PremiumAccount extends Account {
        public int points;
    }

    /** A polymorphic type that is not sealed, so its subclasses cannot be listed at open. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes(@JsonSubTypes.Type(value = CardTender.class, name = "cardTender"))
    public abstract static class Tender {
        public long cents;
    }

    /** Named in {@link Tender}'s {@code @JsonSubTypes}. */
    public static class CardTender extends Tender {
        public String last4;
    }

    /** Not named: its type id would be unknown to every read. */
    public static class VoucherTender extends Tender {
        public String code;
    }

    @Test
    void aSubclassValueThatWouldNotReadBackAsItselfIsRefusedAtSave() throws Exception {
        PremiumAccount premium = new PremiumAccount();
        premium.owner = "Zelda-Owner";
        premium.points = 7;
        // before: stored as {"owner":…} and read back as an Account, its points gone
        assertThatThrownBy(() -> CODEC.forType(Account.class).encode(premium)).isInstanceOf(CodecException.class)
                .hasMessageContaining("cannot store a " + PremiumAccount.class.getName() + " as a " + Account.class.getName())
                .hasMessageContaining("without the properties PremiumAccount adds").hasMessageContaining("@JsonSubTypes")
                .hasMessageNotContaining("Zelda-Owner");

        VoucherTender voucher = new VoucherTender();
        voucher.cents = 500;
        voucher.code = "SECRET-CODE";
        // before: stored, then every read failed (type id "JacksonEntityCodecTest$VoucherTender" unknown)
        assertThatThrownBy(() -> CODEC.forType(Tender.class).encode(voucher)).isInstanceOf(CodecException.class)
                .hasMessageContaining("it would not read back").hasMessageContaining("name VoucherTender in Tender's @JsonSubTypes")
                .hasMessageNotContaining("SECRET-CODE");
    }

    @Test
    void aSubclassThatReadsBackAsItselfOrAddsNothingIsStored() throws Exception {
        CardTender card = new CardTender();
        card.cents = 250;
        card.last4 = "4242";
        EntityCodec.TypeCodec<Tender> payments = CODEC.forType(Tender.class);
        for (int i = 0; i < 2; i++) { // the second save takes the remembered verdict
            assertThat(payments.decode(payments.encode(card))).isInstanceOfSatisfying(CardTender.class,
                    c -> assertThat(c.last4).isEqualTo("4242"));
        }
        // an anonymous subclass (double-brace initialisation) adds no property: it reads back whole, as an Account
        Account anonymous = new Account() { { owner = "bob"; } };
        EntityCodec.TypeCodec<Account> accounts = CODEC.forType(Account.class);
        assertThat(accounts.decode(accounts.encode(anonymous)).owner).isEqualTo("bob");
    }

    /** A sealed shape whose type id is the class name: every subclass reads back, named or not. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public sealed interface Token permits Word, Mark {
    }

    /** A {@link Token}. */
    public record Word(String text) implements Token {
    }

    /** A {@link Token}. */
    public record Mark(char symbol, Calendar at) implements Token {
    }

    /** A record holding tokens. */
    public record Sentence(List<Token> tokens) {
    }

    /** With class names as ids no subtype needs naming; the permitted subclasses are still checked (a Calendar). */
    @Test
    void aSealedTypeWithClassIdsIsCheckedThroughItsPermittedSubclasses() {
        assertThatThrownBy(() -> CODEC.forType(Sentence.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property tokens[]")
                .hasMessageContaining("ZonedDateTime");
    }

    /** A sealed type that is itself the entity type, with one subclass unnamed. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes(@JsonSubTypes.Type(value = Paid.class, name = "paid"))
    public sealed interface Payment permits Paid, Refunded {
    }

    /** A {@link Payment}. */
    public record Paid(BigDecimal amount) implements Payment {
    }

    /** A {@link Payment} missing from {@code @JsonSubTypes}. */
    public record Refunded(BigDecimal amount, Map<Sku, Integer> items) implements Payment {
    }

    @Test
    void aSealedEntityTypeIsCheckedItself() {
        assertThatThrownBy(() -> CODEC.forType(Payment.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining(Refunded.class.getName())
                .hasMessageContaining("@JsonSubTypes");
    }

    /** A non-sealed polymorphic type whose named subtype has a key that would not read back. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
    @JsonSubTypes(@JsonSubTypes.Type(value = Restock.class, name = "restock"))
    public interface Command {
    }

    /** A {@link Command}. */
    public record Restock(Map<Sku, Integer> counts) implements Command {
    }

    /** A record holding a command. */
    public record Queue(Command next) {
    }

    @Test
    void aNamedSubtypeIsCheckedAsAnyType() {
        assertThatThrownBy(() -> CODEC.forType(Queue.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property next(Restock).counts")
                .hasMessageContaining(Sku.class.getName());
    }

    /** A plain value named as a subtype by a property. */
    public record Plain(int n) {
    }

    /** A plain value holding a Calendar, named as a subtype by a property. */
    public record Dated(Calendar at) {
    }

    /** A property that names its own subtypes (annotations on the property, not the class). */
    public record Holder(@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
                         @JsonSubTypes(@JsonSubTypes.Type(value = Plain.class, name = "plain")) Object value) {
    }

    /** A property that names a subtype holding a Calendar. */
    public record DatedHolder(@JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
                              @JsonSubTypes(@JsonSubTypes.Type(value = Dated.class, name = "dated")) Object value) {
    }

    @Test
    void aPropertyNamingItsOwnSubtypesIsCheckedThroughThem() throws Exception {
        roundTrip(CODEC, Holder.class, new Holder(new Plain(3)));
        assertThatThrownBy(() -> CODEC.forType(DatedHolder.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("property value(Dated).at")
                .hasMessageContaining("ZonedDateTime");
    }

    /** A recursive record whose property names its own type as its subtype. */
    public record Chain(String name, @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
                       @JsonSubTypes(@JsonSubTypes.Type(value = Chain.class, name = "chain")) Chain next) {
    }

    @Test
    void aRecursiveTypeNamingItselfAsASubtypeIsCheckedOnce() throws Exception {
        roundTrip(CODEC, Chain.class, new Chain("a", new Chain("b", null)));
    }

    /**
     * A concrete polymorphic base (class names as ids) that Jackson cannot create (two constructors, neither a creator;
     * as one without -parameters): only its subclasses are stored.
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS)
    public static class Event {
        public final String id;

        protected Event(String id, int unused) {
            this.id = id;
        }

        protected Event(String id, long unused) {
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o != null && o.getClass() == getClass() && ((Event) o).id.equals(id);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }

    /** An {@link Event}. */
    public static class Created extends Event {
        @JsonCreator
        public Created(@JsonProperty("id") String id) {
            super(id, 0);
        }
    }

    /** A record holding an event. */
    public record Journal(Event last) {
    }

    /** The same with names as ids and the subtype named. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes(@JsonSubTypes.Type(value = Opened.class, name = "opened"))
    public static class Notice {
        public final String id;

        protected Notice(String id, int unused) {
            this.id = id;
        }

        protected Notice(String id, long unused) {
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o != null && o.getClass() == getClass() && ((Notice) o).id.equals(id);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }

    /** A {@link Notice}. */
    public static class Opened extends Notice {
        @JsonCreator
        public Opened(@JsonProperty("id") String id) {
            super(id, 0);
        }
    }

    /** A record holding a notice. */
    public record Board(Notice last) {
    }

    /** The base of a polymorphic type is not checked (as before): its subtypes are what is stored and read. */
    @Test
    void aConcretePolymorphicBaseIsNotCheckedOnlyItsSubtypes() throws Exception {
        roundTrip(CODEC, Journal.class, new Journal(new Created("x")));
        roundTrip(CODEC, Board.class, new Board(new Opened("x")));
    }

    /** A concrete base of a hierarchy (class-name ids, so any subclass is read back), holding a Sku-keyed map. */
    @com.fasterxml.jackson.annotation.JsonTypeInfo(use = com.fasterxml.jackson.annotation.JsonTypeInfo.Id.CLASS)
    public static class Settlement {
        public Map<Sku, Integer> lines = Map.of();
    }

    /** An entity holding a {@link Settlement}. */
    public record Order(Settlement payment) {
    }

    @Test
    void whatAConcretePolymorphicBaseHoldsIsStillChecked() {
        assertThatThrownBy(() -> CODEC.forType(Order.class))
                .isInstanceOf(UnusableEntityTypeException.class)
                .hasMessageContaining("Map key of type " + Sku.class.getName());
    }

    // ---- dates at save ---------------------------------------------------------------------------

    /** A record holding a date. */
    public record Expiry(Date expires) {
    }

    private static final long FIRST_READABLE = -62_135_769_600_000L; // 0001-01-01T00:00:00.000 UTC (Julian calendar)
    private static final long LAST_READABLE = 253_402_300_799_999L; // 9999-12-31T23:59:59.999 UTC

    @Test
    void datesAreCheckedAgainstTheYearsJacksonReads() throws Exception {
        EntityCodec.TypeCodec<Expiry> typed = CODEC.forType(Expiry.class);
        for (long millis : new long[] {FIRST_READABLE, LAST_READABLE, 0, -62_135_596_800_000L, -12_219_292_800_001L}) {
            roundTrip(CODEC, Expiry.class, new Expiry(new Date(millis)));
        }
        assertThat(new String(typed.encode(new Expiry(new Date(0))), StandardCharsets.UTF_8))
                .as("the stored form is unchanged").isEqualTo("{\"expires\":\"1970-01-01T00:00:00.000+00:00\"}");
        for (long millis : new long[] {FIRST_READABLE - 1, LAST_READABLE + 1, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertThatThrownBy(() -> typed.encode(new Expiry(new Date(millis))))
                    .as("%d", millis)
                    .isInstanceOf(CodecException.class)
                    .hasMessageContaining("could not be read back")
                    .hasMessageContaining("expires")
                    .hasMessageContaining("java.util.Date")
                    .hasMessageNotContaining(String.valueOf(millis));
        }
    }

    /** Dates in lists, maps and untyped places, and as map keys. */
    public record Dates(List<Date> list, Map<String, Date> byName, Object any, Map<Date, String> keyed) {
    }

    @Test
    void aDateAnywhereInTheValueIsChecked() throws Exception {
        EntityCodec.TypeCodec<Dates> typed = CODEC.forType(Dates.class);
        Date never = new Date(Long.MAX_VALUE);
        Date now = new Date(1_717_259_400_123L);
        typed.encode(new Dates(List.of(now), Map.of("a", now), now, Map.of(now, "a")));
        assertThatThrownBy(() -> typed.encode(new Dates(List.of(now, never), null, null, null)))
                .isInstanceOf(CodecException.class).hasMessageContaining("list[]");
        assertThatThrownBy(() -> typed.encode(new Dates(null, Map.of("secret", never), null, null)))
                .isInstanceOf(CodecException.class).hasMessageContaining("byName[]").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> typed.encode(new Dates(null, null, null, Map.of(never, "a"))))
                .isInstanceOf(CodecException.class).hasMessageContaining("keyed").hasMessageContaining("could not be read back");
    }

    /** Dates in untyped places (read back as strings, never as dates), and typed ones in an Optional and an array. */
    public record Loose(Object any, Map<String, Object> attributes, Map<Object, String> byAnything, Optional<Date> maybe, Date[] all) {
    }

    /** An untyped Date is never read back as a Date: it is written as before (its String comes back), whatever its year. */
    @Test
    void anUntypedDateIsWrittenAsBeforeWhateverItsYear() throws Exception {
        EntityCodec.TypeCodec<Loose> typed = CODEC.forType(Loose.class);
        Date never = new Date(Long.MAX_VALUE);
        String text = "+292278994-08-17T07:12:55.807+00:00";
        Loose back = typed.decode(typed.encode(new Loose(never, Map.of("a", never), Map.of(never, "x"), null, null)));
        assertThat(back.any()).isEqualTo(text);
        assertThat(back.attributes()).isEqualTo(Map.of("a", text));
        assertThat(back.byAnything()).isEqualTo(Map.of(text, "x"));
        assertThatThrownBy(() -> typed.encode(new Loose(null, null, null, Optional.of(never), null)))
                .isInstanceOf(CodecException.class).hasMessageContaining("could not be read back").hasMessageContaining("maybe");
        assertThatThrownBy(() -> typed.encode(new Loose(null, null, null, null, new Date[] {new Date(0), never})))
                .isInstanceOf(CodecException.class).hasMessageContaining("could not be read back").hasMessageContaining("all");
    }

    /** Dates in every form: default, patterns, a zone of their own, numbers, containers, keys, untyped. */
    public record EveryForm(Date plain, @JsonFormat(pattern = "yyyy-MM-dd HH:mm:ss.SSS") Date pattern,
                            @JsonFormat(shape = JsonFormat.Shape.STRING, timezone = "Pacific/Kiritimati") Date zoned,
                            @JsonFormat(shape = JsonFormat.Shape.STRING, pattern = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", timezone = "America/New_York")
                            Date patternZoned,
                            @JsonFormat(shape = JsonFormat.Shape.NUMBER) Date number, List<Date> list, Map<Date, Date> keyed,
                            Optional<Date> maybe, Date[] array, Object any, Map<String, Object> attributes, Map<Object, Object> byAnything) {
    }

    private static EveryForm everyForm(Date typed, Date untyped) {
        return new EveryForm(typed, typed, typed, typed, typed, List.of(typed), Map.of(typed, typed), Optional.of(typed), new Date[] {typed},
                untyped, Map.of("a", untyped), Map.of(untyped, untyped));
    }

    /** The checked serializers write exactly what Jackson's own write, with the mapper's zone or without. */
    @Test
    void datesAreWrittenByteForByteAsJacksonWritesThem() throws Exception {
        for (TimeZone zone : new TimeZone[] {null, TimeZone.getTimeZone("Europe/Paris"), TimeZone.getTimeZone("GMT-10:00")}) {
            JsonMapper.Builder jackson = JsonMapper.builder().addModule(new ParameterNamesModule()).addModule(new Jdk8Module())
                    .addModule(new JavaTimeModule()).disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
            JsonMapper.Builder ours = JacksonEntityCodec.defaultMapperBuilder();
            if (zone != null) {
                jackson.defaultTimeZone(zone);
                ours.defaultTimeZone(zone);
            }
            ObjectMapper plain = jackson.build();
            EntityCodec.TypeCodec<EveryForm> typed = JacksonEntityCodec.of(ours.build()).forType(EveryForm.class);
            for (long millis : new long[] {0, 1_717_259_400_123L, FIRST_READABLE + 15 * 3_600_000L, LAST_READABLE - 15 * 3_600_000L}) {
                for (Date untyped : new Date[] {new Date(millis), new Date(Long.MAX_VALUE), new Date(Long.MIN_VALUE)}) {
                    EveryForm value = everyForm(new Date(millis), untyped);
                    assertThat(new String(typed.encode(value), StandardCharsets.UTF_8)).as("%s %d %d", zone, millis, untyped.getTime())
                            .isEqualTo(plain.writeValueAsString(value));
                }
            }
        }
    }

    /** The range is in the zone the dates are written in: a mapper east of UTC writes 9999-12-31T12:00Z in year 10000. */
    @Test
    void theRangeIsInTheZoneTheDatesAreWrittenIn() throws Exception {
        JacksonEntityCodec east = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder()
                .defaultTimeZone(TimeZone.getTimeZone("GMT+14:00")).build());
        EntityCodec.TypeCodec<Expiry> typed = east.forType(Expiry.class);
        assertThatThrownBy(() -> typed.encode(new Expiry(new Date(LAST_READABLE - 12 * 3_600_000L))))
                .isInstanceOf(CodecException.class).hasMessageContaining("GMT+14:00");
        roundTrip(east, Expiry.class, new Expiry(new Date(LAST_READABLE - 14 * 3_600_000L)));
        roundTrip(east, Expiry.class, new Expiry(new Date(FIRST_READABLE - 14 * 3_600_000L)));
    }

    /** Dates written as numbers, or with the application's own pattern, are the application's form and not checked. */
    public record Patterned(@JsonFormat(shape = JsonFormat.Shape.STRING, pattern = "yyyy-MM-dd") Date day) {
    }

    @Test
    void datesInAFormTheApplicationChoseAreNotChecked() throws Exception {
        JacksonEntityCodec numbers = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder()
                .enable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build());
        roundTrip(numbers, Expiry.class, new Expiry(new Date(Long.MAX_VALUE)));
        assertThat(json(numbers, new Expiry(new Date(5)))).isEqualTo("{\"expires\":5}");
        assertThat(json(CODEC, new Patterned(new Date(LAST_READABLE + 1)))).isEqualTo("{\"day\":\"10000-01-01\"}");
    }

    /** A Calendar, where a mapper with a zone of its own allows it, is checked as a Date. */
    public record Meeting(Calendar at) {
    }

    @Test
    void aCalendarIsCheckedAsADate() throws Exception {
        TimeZone zone = TimeZone.getTimeZone("UTC");
        JacksonEntityCodec own = JacksonEntityCodec.of(JacksonEntityCodec.defaultMapperBuilder().defaultTimeZone(zone).build());
        Calendar far = new GregorianCalendar(zone);
        far.setTimeInMillis(Long.MAX_VALUE);
        assertThatThrownBy(() -> own.forType(Meeting.class).encode(new Meeting(far)))
                .isInstanceOf(CodecException.class).hasMessageContaining("could not be read back").hasMessageContaining("at");
        Calendar near = new GregorianCalendar(zone);
        near.setTimeInMillis(LAST_READABLE);
        assertThat(own.forType(Meeting.class).decode(own.forType(Meeting.class).encode(new Meeting(near))).at().getTimeInMillis())
                .isEqualTo(LAST_READABLE);
    }

    /** Other java.sql types keep Jackson's own forms: a java.sql.Time is not a java.util.Date here. */
    public record Clock(Object at) {
    }

    @Test
    void aSqlTimeKeepsJacksonsForm() throws Exception {
        assertThat(json(CODEC, new Clock(java.sql.Time.valueOf("16:30:00")))).isEqualTo("{\"at\":\"16:30:00\"}");
    }
}
