package dev.reliablestore.cluster;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
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
 *
 * <p>Limits: what is written can be read back. Strings and property names are only bounded by the
 * document ({@link EnvelopeCodec#MAX_PLAINTEXT}), where Jackson's defaults (20 M characters, 50 000)
 * would refuse to read what it wrote; numbers keep Jackson's 1 000-character read limit (parsing
 * cost grows faster than linearly) and a write holding a longer one is refused instead; nesting is
 * 1 000 levels both ways. No default typing: stored data never names a Java class to instantiate.
 */
final class JsonCodec<T> {

    /** Longest number, in characters, a value may hold (Jackson's default read limit, which bounds parsing cost). */
    static final int MAX_NUMBER_LENGTH = StreamReadConstraints.DEFAULT_MAX_NUM_LEN;

    /** Deepest nesting, read and write (Jackson's default for both). */
    static final int MAX_NESTING_DEPTH = StreamReadConstraints.DEFAULT_MAX_DEPTH;

    static final StreamReadConstraints READ_LIMITS = StreamReadConstraints.builder()
            .maxDocumentLength(EnvelopeCodec.MAX_PLAINTEXT)
            .maxStringLength(EnvelopeCodec.MAX_PLAINTEXT)
            .maxNameLength(EnvelopeCodec.MAX_PLAINTEXT)
            .maxNumberLength(MAX_NUMBER_LENGTH)
            .maxNestingDepth(MAX_NESTING_DEPTH)
            .build();

    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(READ_LIMITS)
                    .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
                    .build())
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
        byte[] json;
        try {
            json = writer.writeValueAsBytes(entity);
        } catch (JsonProcessingException e) {
            throw new PersistenceException("cannot serialise a " + type.getName() + " to JSON: " + e.getOriginalMessage(), e);
        }
        if (json.length > MAX_NUMBER_LENGTH) {
            refuseWhatCannotBeRead(json);
        }
        return json;
    }

    /** Tokenises with the read limits (numbers are checked as they are tokenised); only a longer document can break them. */
    private void refuseWhatCannotBeRead(byte[] json) {
        try (JsonParser p = MAPPER.getFactory().createParser(json)) {
            while (p.nextToken() != null) {
                // the limits are checked by the tokeniser
            }
        } catch (StreamConstraintsException e) {
            // the message states lengths and limits only, never the content
            throw new PersistenceException("cannot store a " + type.getName() + " that could not be read back: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new PersistenceException("cannot serialise a " + type.getName() + " to JSON (" + e.getClass().getSimpleName() + ")", e);
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
