package dev.reliablestore.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.Version;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.ContextualSerializer;
import com.fasterxml.jackson.databind.ser.Serializers;
import com.fasterxml.jackson.databind.ser.std.CalendarSerializer;
import com.fasterxml.jackson.databind.ser.std.DateSerializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.util.StdDateFormat;

import java.io.IOException;
import java.text.DateFormat;
import java.time.YearMonth;
import java.util.Calendar;
import java.util.Date;
import java.util.TimeZone;

/**
 * Values Jackson writes in a form its own readers do not take, caught when they are written (a save is refused,
 * nothing is stored) or written in the form they do take:
 *
 * <ul>
 *   <li>A {@code java.util.Date} (or {@code Calendar}, or such a map key) declared as one (the type of its property,
 *       or the content or key type of a container there: see {@link #declaredDate}) in Jackson's default text form
 *       ({@link StdDateFormat}) of a year outside 1 to 9999 in the zone it is written in: Jackson writes
 *       {@code "+10000-01-01T00:00:00.000+00:00"} or {@code "-0001-..."}, and before 2.21 parses four-digit
 *       years only (a {@code new Date(Long.MAX_VALUE)} as "never" was stored and every read of it failed).
 *       Jackson 2.21 reads them, but stored data is read by every version of the codec's users, so the range
 *       is the one all of them read. Dates as numbers, or in a format of the application's own, are not checked;
 *       nor are dates in untyped places, which are read back as the String written, whatever its year.
 *       The same type's Jackson serializers do the writing, so the stored form is unchanged.</li>
 *   <li>A {@code YearMonth} map key of a year past 9999 is written with its sign ({@code "+10000-01"}), the form
 *       the JavaTimeModule key reader parses; Jackson writes {@code "10000-01"}, which it does not. Other months
 *       are written as before.</li>
 * </ul>
 */
final class ReadBackForms {

    /** 0001-01-01T00:00:00.000 in UTC, as {@link StdDateFormat} counts it (the Julian calendar before 1582). */
    static final long FIRST_READABLE_MILLIS = -62_135_769_600_000L;
    /** 9999-12-31T23:59:59.999 in UTC. */
    static final long LAST_READABLE_MILLIS = 253_402_300_799_999L;
    /** More than any zone offset: outside this margin the instant is out of range in every zone. */
    private static final long DAY_MILLIS = 86_400_000L;

    private ReadBackForms() {
    }

    static Module module() {
        return new Module() {
            @Override
            public String getModuleName() {
                return "reliablestore-read-back-forms";
            }

            @Override
            public Version version() {
                return Version.unknownVersion();
            }

            @Override
            public void setupModule(SetupContext context) {
                context.addSerializers(new Values());
                context.addKeySerializers(new Keys());
            }
        };
    }

    /** A value that could be written but not read back; {@link JacksonEntityCodec} refuses the save naming where it is. */
    static final class UnreadableValueException extends JsonMappingException {
        private static final long serialVersionUID = 1L;

        UnreadableValueException(JsonGenerator g, String message) {
            super(g, message);
        }

        /** The property path (names, {@code []} for elements and map entries: never a map key, which may be confidential). */
        String where() {
            StringBuilder path = new StringBuilder();
            for (Reference r : getPath()) {
                if (r.getIndex() >= 0 || r.getFrom() instanceof java.util.Map) {
                    path.append("[]");
                } else if (r.getFieldName() != null) {
                    path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
                }
            }
            return path.toString();
        }
    }

    /**
     * Refuses an instant {@code format} would write with a year outside 1 to 9999; a format other than Jackson's
     * standard one is the application's, and not checked. The message names no value (stored data may be confidential).
     */
    static void checkYear(long millis, DateFormat format, JsonGenerator g, String what) throws UnreadableValueException {
        if (!(format instanceof StdDateFormat std)) {
            return;
        }
        TimeZone zone = std.getTimeZone(); // null: Jackson's default, UTC
        boolean readable;
        if (millis < FIRST_READABLE_MILLIS - DAY_MILLIS || millis > LAST_READABLE_MILLIS + DAY_MILLIS) {
            readable = false;
        } else {
            long local = zone == null ? millis : millis + zone.getOffset(millis);
            readable = local >= FIRST_READABLE_MILLIS && local <= LAST_READABLE_MILLIS;
        }
        if (!readable) {
            throw new UnreadableValueException(g, what + " of a year outside 1 to 9999 (in time zone "
                    + (zone == null ? "UTC" : zone.getID()) + ", the zone dates are written in): Jackson writes such a year with a"
                    + " sign (\"+10000-01-01T...\"), which it does not read back before version 2.21; hold an Instant"
                    + " (any year), or for \"never\" a date within those years (9999-12-31T23:59:59.999Z)");
        }
    }

    /**
     * Whether the value (or, with {@code key}, the map key) a serializer is made for is declared a {@code Date} or
     * {@code Calendar} by {@code property}: its type, or the content type of a container, {@code Optional} or array
     * there (through nested ones); for a key, the key type of such a map. Only such a value is read back as a date:
     * one in an untyped place ({@code Object}, {@code Map<String, Object>}, a {@code Map<Object, V>} key, a type
     * variable) comes back as the String written, whatever its year, and is not checked. Jackson finds the
     * serializer of such a value from its class, with the property that holds the untyped place, or (a key) none. No
     * property on a value: the value written is the root (an entity of a date type).
     */
    static boolean declaredDate(BeanProperty property, boolean key) {
        if (property == null) {
            return !key;
        }
        for (JavaType t = property.getType(); t != null; t = t.isContainerType() || t.isReferenceType() ? t.getContentType() : null) {
            if (key ? t.isMapLikeType() && isDate(t.getKeyType()) : isDate(t)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDate(JavaType t) {
        return t != null && (Date.class.isAssignableFrom(t.getRawClass()) || Calendar.class.isAssignableFrom(t.getRawClass()));
    }

    /**
     * Jackson's {@link DateSerializer}, checking the year when it writes its standard text form of a value declared a
     * date ({@link #declaredDate}); every form it writes is Jackson's.
     */
    static final class CheckedDateSerializer extends DateSerializer {
        private final boolean checked;

        CheckedDateSerializer(Boolean useTimestamp, DateFormat customFormat, boolean checked) {
            super(useTimestamp, customFormat);
            this.checked = checked;
        }

        @Override
        public CheckedDateSerializer withFormat(Boolean timestamp, DateFormat customFormat) {
            return new CheckedDateSerializer(timestamp, customFormat, checked);
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider provider, BeanProperty property) throws JsonMappingException {
            JsonSerializer<?> s = super.createContextual(provider, property); // this, or withFormat(...) of a @JsonFormat
            boolean declared = declaredDate(property, false);
            return s instanceof CheckedDateSerializer c && c.checked != declared
                    ? new CheckedDateSerializer(c._useTimestamp, c._customFormat, declared) : s;
        }

        @Override
        public void serialize(Date value, JsonGenerator g, SerializerProvider provider) throws IOException {
            if (checked && !_asTimestamp(provider)) {
                checkYear(value.getTime(), _customFormat != null ? _customFormat : provider.getConfig().getDateFormat(), g,
                        "a java.util.Date");
            }
            super.serialize(value, g, provider);
        }
    }

    /** Jackson's {@link CalendarSerializer}, checking the year as {@link CheckedDateSerializer} does. */
    static final class CheckedCalendarSerializer extends CalendarSerializer {
        private final boolean checked;

        CheckedCalendarSerializer(Boolean useTimestamp, DateFormat customFormat, boolean checked) {
            super(useTimestamp, customFormat);
            this.checked = checked;
        }

        @Override
        public CheckedCalendarSerializer withFormat(Boolean timestamp, DateFormat customFormat) {
            return new CheckedCalendarSerializer(timestamp, customFormat, checked);
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider provider, BeanProperty property) throws JsonMappingException {
            JsonSerializer<?> s = super.createContextual(provider, property);
            boolean declared = declaredDate(property, false);
            return s instanceof CheckedCalendarSerializer c && c.checked != declared
                    ? new CheckedCalendarSerializer(c._useTimestamp, c._customFormat, declared) : s;
        }

        @Override
        public void serialize(Calendar value, JsonGenerator g, SerializerProvider provider) throws IOException {
            if (checked && !_asTimestamp(provider)) {
                checkYear(value.getTimeInMillis(), _customFormat != null ? _customFormat : provider.getConfig().getDateFormat(), g,
                        "a java.util.Calendar");
            }
            super.serialize(value, g, provider);
        }
    }

    /**
     * A {@code Date} or {@code Calendar} map key, written as Jackson writes it, its year checked where the key type is
     * declared a date ({@link #declaredDate}: Jackson finds the key serializer of a {@code Map<Object, V>} key from its
     * class, with no property).
     */
    static final class CheckedDateKeySerializer extends StdSerializer<Object> implements ContextualSerializer {
        private final boolean checked;

        CheckedDateKeySerializer(boolean checked) {
            super(Object.class);
            this.checked = checked;
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider provider, BeanProperty property) {
            boolean declared = declaredDate(property, true);
            return declared == checked ? this : new CheckedDateKeySerializer(declared);
        }

        @Override
        public void serialize(Object value, JsonGenerator g, SerializerProvider provider) throws IOException {
            long millis = value instanceof Date d ? d.getTime() : ((Calendar) value).getTimeInMillis();
            if (checked && !provider.isEnabled(SerializationFeature.WRITE_DATE_KEYS_AS_TIMESTAMPS)) {
                checkYear(millis, provider.getConfig().getDateFormat(), g, "a Map key of type " + value.getClass().getName());
            }
            if (value instanceof Date d) {
                provider.defaultSerializeDateKey(d, g);
            } else {
                provider.defaultSerializeDateKey(millis, g);
            }
        }
    }

    /** A {@code YearMonth} map key: {@code toString()}, with a {@code +} before a year past 9999 as the key reader wants. */
    private static final class YearMonthKeySerializer extends StdSerializer<YearMonth> {
        YearMonthKeySerializer() {
            super(YearMonth.class);
        }

        @Override
        public void serialize(YearMonth value, JsonGenerator g, SerializerProvider provider) throws IOException {
            g.writeFieldName(value.getYear() > 9999 ? "+" + value : value.toString());
        }
    }

    /** Exactly {@code java.util.Date} (its java.sql subclasses keep their own serializers) and every {@code Calendar}. */
    private static final class Values extends Serializers.Base {
        @Override
        public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription beanDesc) {
            Class<?> raw = type.getRawClass();
            if (raw == Date.class) {
                return new CheckedDateSerializer(null, null, true);
            }
            if (Calendar.class.isAssignableFrom(raw)) {
                return new CheckedCalendarSerializer(null, null, true);
            }
            return null;
        }
    }

    private static final class Keys extends Serializers.Base {
        @Override
        public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription beanDesc) {
            Class<?> raw = type.getRawClass();
            if (raw == Date.class || Calendar.class.isAssignableFrom(raw)) {
                return new CheckedDateKeySerializer(true);
            }
            if (raw == YearMonth.class) {
                return new YearMonthKeySerializer();
            }
            return null;
        }
    }
}
