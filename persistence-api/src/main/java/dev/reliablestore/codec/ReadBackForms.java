package dev.reliablestore.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.Version;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
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
 *   <li>A {@code java.util.Date} (or {@code Calendar}, or such a map key) in Jackson's default text form
 *       ({@link StdDateFormat}) of a year outside 1 to 9999 in the zone it is written in: Jackson writes
 *       {@code "+10000-01-01T00:00:00.000+00:00"} or {@code "-0001-..."}, and before 2.21 parses four-digit
 *       years only (a {@code new Date(Long.MAX_VALUE)} as "never" was stored and every read of it failed).
 *       Jackson 2.21 reads them, but stored data is read by every version of the codec's users, so the range
 *       is the one all of them read. Dates as numbers, or in a format of the application's own, are not checked.
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

    /** Jackson's {@link DateSerializer}, checking the year when it writes its standard text form. */
    static final class CheckedDateSerializer extends DateSerializer {
        CheckedDateSerializer(Boolean useTimestamp, DateFormat customFormat) {
            super(useTimestamp, customFormat);
        }

        @Override
        public CheckedDateSerializer withFormat(Boolean timestamp, DateFormat customFormat) {
            return new CheckedDateSerializer(timestamp, customFormat);
        }

        @Override
        public void serialize(Date value, JsonGenerator g, SerializerProvider provider) throws IOException {
            if (!_asTimestamp(provider)) {
                checkYear(value.getTime(), _customFormat != null ? _customFormat : provider.getConfig().getDateFormat(), g,
                        "a java.util.Date");
            }
            super.serialize(value, g, provider);
        }
    }

    /** Jackson's {@link CalendarSerializer}, checking the year when it writes its standard text form. */
    static final class CheckedCalendarSerializer extends CalendarSerializer {
        CheckedCalendarSerializer(Boolean useTimestamp, DateFormat customFormat) {
            super(useTimestamp, customFormat);
        }

        @Override
        public CheckedCalendarSerializer withFormat(Boolean timestamp, DateFormat customFormat) {
            return new CheckedCalendarSerializer(timestamp, customFormat);
        }

        @Override
        public void serialize(Calendar value, JsonGenerator g, SerializerProvider provider) throws IOException {
            if (!_asTimestamp(provider)) {
                checkYear(value.getTimeInMillis(), _customFormat != null ? _customFormat : provider.getConfig().getDateFormat(), g,
                        "a java.util.Calendar");
            }
            super.serialize(value, g, provider);
        }
    }

    /** A {@code Date} or {@code Calendar} map key, written as Jackson writes it, its year checked. */
    static final class CheckedDateKeySerializer extends StdSerializer<Object> {
        CheckedDateKeySerializer() {
            super(Object.class);
        }

        @Override
        public void serialize(Object value, JsonGenerator g, SerializerProvider provider) throws IOException {
            long millis = value instanceof Date d ? d.getTime() : ((Calendar) value).getTimeInMillis();
            if (!provider.isEnabled(SerializationFeature.WRITE_DATE_KEYS_AS_TIMESTAMPS)) {
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
                return new CheckedDateSerializer(null, null);
            }
            if (Calendar.class.isAssignableFrom(raw)) {
                return new CheckedCalendarSerializer(null, null);
            }
            return null;
        }
    }

    private static final class Keys extends Serializers.Base {
        @Override
        public JsonSerializer<?> findSerializer(SerializationConfig config, JavaType type, BeanDescription beanDesc) {
            Class<?> raw = type.getRawClass();
            if (raw == Date.class || Calendar.class.isAssignableFrom(raw)) {
                return new CheckedDateKeySerializer();
            }
            if (raw == YearMonth.class) {
                return new YearMonthKeySerializer();
            }
            return null;
        }
    }
}
