package dev.reliablestore.codec;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.deser.std.DateDeserializers;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.ContextualSerializer;
import com.fasterxml.jackson.databind.ser.std.DateSerializer;
import com.fasterxml.jackson.databind.ser.std.SqlDateSerializer;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import com.fasterxml.jackson.databind.util.StdDateFormat;

import java.io.IOException;
import java.sql.Timestamp;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Calendar;
import java.util.GregorianCalendar;

/**
 * {@code java.sql.Timestamp} and {@code java.sql.Date} read back equal: Jackson's own serializers write a
 * timestamp to the millisecond (its nanoseconds are lost) and read a date as midnight UTC (a JVM west of
 * UTC gets the day before). A timestamp is written as an ISO-8601 instant to the nanosecond, a date as
 * its {@code yyyy-MM-dd} (what Jackson wrote too); both read what Jackson wrote before. A property with a
 * {@code @JsonFormat}, or a mapper with its own date format or dates as numbers, keeps Jackson's own
 * handling: its format is what the stored data follows.
 */
final class LegacyDateTypes {

    private LegacyDateTypes() {
    }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("reliablestore-sql-dates");
        m.addSerializer(Timestamp.class, new TimestampWriter());
        m.addDeserializer(Timestamp.class, new TimestampReader());
        m.addSerializer(java.sql.Date.class, new DateWriter());
        m.addDeserializer(java.sql.Date.class, new DateReader());
        return m;
    }

    /**
     * Whether the stored form is one the application chose: Jackson's own handling then reads and writes it. The
     * mapper's date format counts for a timestamp only: Jackson writes a {@code java.sql.Date} as its day whatever
     * the format, and reading it with the format would fail.
     */
    private static boolean chosenFormat(MapperConfig<?> config, JsonFormat.Value format, boolean usesDateFormat) {
        boolean formatted = format != null && (format.hasPattern() || format.hasShape() && format.getShape() != JsonFormat.Shape.ANY
                || format.hasTimeZone() || format.hasLocale());
        boolean numbers = config instanceof com.fasterxml.jackson.databind.SerializationConfig s
                && s.isEnabled(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        return formatted || numbers || usesDateFormat && !(config.getDateFormat() instanceof StdDateFormat);
    }

    private static final class TimestampWriter extends StdScalarSerializer<Timestamp> implements ContextualSerializer {
        TimestampWriter() {
            super(Timestamp.class);
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider p, BeanProperty property) throws JsonMappingException {
            return chosenFormat(p.getConfig(), findFormatOverrides(p, property, Timestamp.class), true)
                    ? new DateSerializer().createContextual(p, property) : this;
        }

        @Override
        public void serialize(Timestamp value, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeString(DateTimeFormatter.ISO_INSTANT.format(value.toInstant()));
        }
    }

    private static final class TimestampReader extends StdScalarDeserializer<Timestamp> implements ContextualDeserializer {
        TimestampReader() {
            super(Timestamp.class);
        }

        @Override
        public JsonDeserializer<?> createContextual(DeserializationContext c, BeanProperty property) throws JsonMappingException {
            return chosenFormat(c.getConfig(), findFormatOverrides(c, property, Timestamp.class), true)
                    ? new DateDeserializers.TimestampDeserializer().createContextual(c, property) : this;
        }

        @Override
        public Timestamp deserialize(JsonParser p, DeserializationContext c) throws IOException {
            if (p.hasToken(JsonToken.VALUE_NUMBER_INT)) {
                return new Timestamp(p.getLongValue()); // epoch milliseconds, as Jackson writes dates as numbers
            }
            String text = p.getValueAsString();
            try {
                // ISO-8601 with "Z" (this codec) or "+00:00" (Jackson's own format, milliseconds)
                return Timestamp.from(OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
            } catch (DateTimeException | NullPointerException e) {
                return (Timestamp) c.handleWeirdStringValue(Timestamp.class, text, "not an ISO-8601 instant");
            }
        }
    }

    private static final class DateWriter extends StdScalarSerializer<java.sql.Date> implements ContextualSerializer {
        DateWriter() {
            super(java.sql.Date.class);
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider p, BeanProperty property) throws JsonMappingException {
            return chosenFormat(p.getConfig(), findFormatOverrides(p, property, java.sql.Date.class), false)
                    ? new SqlDateSerializer().createContextual(p, property) : this;
        }

        @Override
        public void serialize(java.sql.Date value, JsonGenerator g, SerializerProvider p) throws IOException {
            LocalDate day = value.toLocalDate();
            // toLocalDate() gives a day before year 1 as an AD one (its era is lost: 1 BC-12-31 is "0001-12-31"), and a
            // year past 9999 is read back as another day: such a day is refused, as a java.util.Date of those years is.
            // The era is the one of the calendar toLocalDate() counts in (the default zone's, Julian before 1582).
            GregorianCalendar calendar = new GregorianCalendar();
            calendar.setTime(value);
            if (calendar.get(Calendar.ERA) == GregorianCalendar.BC || day.getYear() < 1 || day.getYear() > 9999) {
                throw new ReadBackForms.UnreadableValueException(g, "a java.sql.Date day of a year outside 1 to 9999: such a day is not read"
                        + " back as the same day; hold a LocalDate (any year), or a day within those years");
            }
            g.writeString(day.toString());
        }
    }

    private static final class DateReader extends StdScalarDeserializer<java.sql.Date> implements ContextualDeserializer {
        DateReader() {
            super(java.sql.Date.class);
        }

        @Override
        public JsonDeserializer<?> createContextual(DeserializationContext c, BeanProperty property) throws JsonMappingException {
            return chosenFormat(c.getConfig(), findFormatOverrides(c, property, java.sql.Date.class), false)
                    ? new DateDeserializers.SqlDateDeserializer().createContextual(c, property) : this;
        }

        @Override
        public java.sql.Date deserialize(JsonParser p, DeserializationContext c) throws IOException {
            if (p.hasToken(JsonToken.VALUE_NUMBER_INT)) {
                return new java.sql.Date(p.getLongValue());
            }
            String text = p.getValueAsString();
            try {
                return java.sql.Date.valueOf(LocalDate.parse(text));
            } catch (DateTimeException | NullPointerException e) {
                return (java.sql.Date) c.handleWeirdStringValue(java.sql.Date.class, text, "not an ISO-8601 date (yyyy-MM-dd)");
            }
        }
    }
}
