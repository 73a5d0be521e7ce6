package dev.reliablestore.basic;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec.TypeCodec;

/** A store's entity codec with the provider's size limit and the provider's errors around it. */
final class EntityBytes<T> {

    private final String typeName;
    private final TypeCodec<T> codec;
    private final long maxEntityBytes;

    EntityBytes(String typeName, TypeCodec<T> codec, long maxEntityBytes) {
        this.typeName = typeName;
        this.codec = codec;
        this.maxEntityBytes = maxEntityBytes;
    }

    /** The entity's bytes; refuses one over the size limit before anything is written. */
    byte[] encode(String id, T entity) {
        byte[] bytes;
        try {
            bytes = codec.encode(entity);
        } catch (CodecException e) {
            // a PersistenceException as every store failure, as the cluster provider's
            throw new PersistenceException("entity " + typeName + "/" + id + " of class "
                    + entity.getClass().getName() + " cannot be stored: " + e.getMessage(), e);
        }
        if (bytes.length > maxEntityBytes) {
            throw new EntityTooLargeException(typeName, id, bytes.length, maxEntityBytes);
        }
        return bytes;
    }

    /** The entity back from its bytes; a failure is a {@link DataIntegrityException} naming where. */
    T decode(String id, byte[] bytes, String where) {
        try {
            return codec.decode(bytes);
        } catch (CodecException e) {
            throw new DataIntegrityException("stored entity " + typeName + "/" + id + " (" + where + ") cannot be read: "
                    + e.getMessage(), e);
        }
    }
}
