package dev.reliablestore.cluster;

/**
 * The value pipeline of one store (JSON → zstd → AES-256-GCM → envelope), exposed for tools and
 * benchmarks. Values are bound to this store's root and type and to the given id and version.
 *
 * @param <T> the entity type
 */
public interface ValueCodec<T> {

    /** The stored bytes of {@code entity} as entity {@code id} at {@code version}. */
    byte[] encode(String id, long version, T entity);

    /**
     * The entity stored in {@code stored}.
     *
     * @throws dev.reliablestore.api.DataIntegrityException when the bytes are not an intact value of
     *         this id and version under this store's keys
     */
    T decode(String id, long version, byte[] stored);
}
