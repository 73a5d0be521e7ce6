package dev.reliablestore.basic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityTooLargeException;

import java.io.IOException;

/**
 * Entities to JSON and back. Dates and durations are ISO-8601 strings (full nanosecond precision),
 * every non-ASCII character is written as a <code>&#92;uXXXX</code> escape (so even an unpaired surrogate
 * survives), and properties the class no longer has are ignored on read.
 */
final class JsonCodec {

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .addModule(new Jdk8Module())
            .addModule(new ParameterNamesModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .build();

    private final long maxEntityBytes;

    JsonCodec(long maxEntityBytes) {
        this.maxEntityBytes = maxEntityBytes;
    }

    long maxEntityBytes() {
        return maxEntityBytes;
    }

    /** The entity's JSON; refuses one over the size limit before anything is written. */
    byte[] encode(String typeName, String id, Object entity) {
        byte[] bytes;
        try {
            bytes = MAPPER.writeValueAsBytes(entity);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("entity " + typeName + "/" + id + " of class "
                    + entity.getClass().getName() + " cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
        if (bytes.length > maxEntityBytes) {
            throw new EntityTooLargeException(typeName, id, bytes.length, maxEntityBytes);
        }
        return bytes;
    }

    /** The entity back from its JSON; a failure is a {@link DataIntegrityException} naming where. */
    <T> T decode(String typeName, String id, byte[] json, Class<T> type, String where) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new DataIntegrityException("stored entity " + typeName + "/" + id + " (" + where
                    + ") cannot be read as " + type.getName() + ": " + e.getMessage(), e);
        }
    }
}
