package dev.reliablestore.cluster;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;

/**
 * Entity ⇄ bytes for one store: the factory's {@link EntityCodec} (by default
 * {@link dev.reliablestore.codec.JacksonEntityCodec#defaults()}, the same as the memory and file
 * providers and the CLI use) with this provider's errors around it. The type is checked when the
 * store is opened ({@link EntityCodec#forType}), so a type that could be written but not read back
 * is refused then, not at its first read.
 */
final class StoreCodec<T> {

    private final Class<T> type;
    private final EntityCodec.TypeCodec<T> codec;
    private final boolean json;

    StoreCodec(EntityCodec codec, Class<T> type) {
        this.type = type;
        this.codec = codec.forType(type);
        this.json = codec.isJson();
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

    /**
     * What the codec reads back from what it writes of {@code entity}. An entity it writes but
     * cannot read back is refused as such (nothing was stored: not a {@link DataIntegrityException}).
     */
    T copy(T entity, String what) {
        byte[] bytes = write(entity);
        try {
            return codec.decode(bytes);
        } catch (CodecException e) {
            throw new PersistenceException(what + " is written by the codec but not read back (" + e.getMessage() + "), so it cannot be"
                    + " saved in a transaction, whose reads return what the codec reads back; nothing was written", e.getCause());
        }
    }

    T read(byte[] bytes, String where) {
        try {
            return codec.decode(bytes);
        } catch (CodecException e) {
            // the codec's message never quotes stored bytes; neither does the cause it keeps
            throw new DataIntegrityException(where + ": the stored " + (json ? "JSON" : "value") + " is " + e.getMessage(), e.getCause());
        }
    }
}
