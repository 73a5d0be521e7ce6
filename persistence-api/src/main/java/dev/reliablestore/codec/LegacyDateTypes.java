package dev.reliablestore.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;

import java.io.IOException;
import java.sql.Timestamp;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * {@code java.sql.Timestamp} and {@code java.sql.Date} read back equal: Jackson's own serializers write a
 * timestamp to the millisecond (its nanoseconds are lost) and read a date as midnight UTC (a JVM west of
 * UTC gets the day before). A timestamp is written as an ISO-8601 instant to the nanosecond, a date as
 * its {@code yyyy-MM-dd} (what Jackson wrote too); both read what Jackson wrote before.
 */
final class LegacyDateTypes {

    private LegacyDateTypes() {
    }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("reliablestore-sql-dates");
        m.addSerializer(Timestamp.class, new StdScalarSerializer<>(Timestamp.class) {
            @Override
            public void serialize(Timestamp value, JsonGenerator g, SerializerProvider p) throws IOException {
                g.writeString(DateTimeFormatter.ISO_INSTANT.format(value.toInstant()));
            }
        });
        m.addDeserializer(Timestamp.class, new StdScalarDeserializer<>(Timestamp.class) {
            @Override
            public Timestamp deserialize(JsonParser p, DeserializationContext c) throws IOException {
                if (p.hasToken(JsonToken.VALUE_NUMBER_INT)) {
                    return new Timestamp(p.getLongValue()); // epoch milliseconds, as a mapper writing timestamps as numbers stores them
                }
                String text = p.getValueAsString();
                try {
                    // ISO-8601 with "Z" (this codec) or "+00:00" (Jackson's own format, milliseconds)
                    return Timestamp.from(OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
                } catch (DateTimeException | NullPointerException e) {
                    return (Timestamp) c.handleWeirdStringValue(Timestamp.class, text, "not an ISO-8601 instant");
                }
            }
        });
        m.addSerializer(java.sql.Date.class, new StdScalarSerializer<>(java.sql.Date.class) {
            @Override
            public void serialize(java.sql.Date value, JsonGenerator g, SerializerProvider p) throws IOException {
                g.writeString(value.toLocalDate().toString());
            }
        });
        m.addDeserializer(java.sql.Date.class, new StdScalarDeserializer<>(java.sql.Date.class) {
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
        });
        return m;
    }
}
