package dev.reliablestore.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;

import java.io.IOException;

/**
 * Entity ⇄ JSON bytes. Records, {@code java.time} (ISO-8601 strings, never numeric timestamps),
 * {@code Optional}, constructor parameter names. Unknown properties are ignored when reading, so a
 * reader built from an older class still reads values written by a newer one that added fields;
 * a missing property becomes the field's default ({@code null}/0/false).
 */
final class JsonCodec<T> {

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new ParameterNamesModule())
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Class<T> type;
    private final ObjectReader reader;
    private final ObjectWriter writer;

    JsonCodec(Class<T> type) {
        this.type = type;
        this.reader = MAPPER.readerFor(type);
        this.writer = MAPPER.writerFor(type);
    }

    Class<T> type() {
        return type;
    }

    byte[] write(T entity) {
        try {
            return writer.writeValueAsBytes(entity);
        } catch (JsonProcessingException e) {
            throw new PersistenceException("cannot serialise a " + type.getName() + " to JSON: " + e.getOriginalMessage(), e);
        }
    }

    T read(byte[] json, String where) {
        try {
            T value = reader.readValue(json);
            if (value == null) {
                throw new DataIntegrityException(where + ": the stored JSON is null, not a " + type.getSimpleName());
            }
            return value;
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataIntegrityException d) {
                throw d;
            }
            // Jackson's messages quote the input, which may be confidential: keep only the kind of error,
            // except for class-definition problems, which quote nothing stored and are what a user must fix
            String detail = e instanceof com.fasterxml.jackson.databind.exc.InvalidDefinitionException d
                    ? d.getOriginalMessage() : e.getClass().getSimpleName();
            throw new DataIntegrityException(where + ": the stored JSON is not a valid " + type.getName() + " (" + detail + ")");
        }
    }
}
