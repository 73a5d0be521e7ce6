package dev.reliablestore.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;

/**
 * Entity ⇄ JSON bytes for one store: the shared default codec ({@link JacksonEntityCodec#defaults()},
 * the same as the memory and file providers and the CLI use) with this provider's errors around it.
 * The type is checked when the store is opened ({@link EntityCodec#forType}), so a type that could
 * be written but not read back is refused then, not at its first read.
 */
final class JsonCodec<T> {

    /** Longest number, in characters, a value may hold. */
    static final int MAX_NUMBER_LENGTH = JacksonEntityCodec.MAX_NUMBER_LENGTH;

    /** The default codec's mapper; also writes the provider's own small JSON documents (metadata). */
    static final ObjectMapper MAPPER = JacksonEntityCodec.defaults().mapper();

    private final Class<T> type;
    private final EntityCodec.TypeCodec<T> codec;

    JsonCodec(Class<T> type) {
        this.type = type;
        this.codec = JacksonEntityCodec.defaults().forType(type);
    }

    Class<T> type() {
        return type;
    }

    byte[] write(T entity) {
        try {
            return codec.encode(entity);
        } catch (CodecException e) {
            throw new PersistenceException(e.getMessage(), e.getCause());
        }
    }

    T read(byte[] json, String where) {
        try {
            return codec.decode(json);
        } catch (CodecException e) {
            // the codec's message never quotes stored bytes; neither does the cause it keeps
            throw new DataIntegrityException(where + ": the stored JSON is " + e.getMessage(), e.getCause());
        }
    }
}
