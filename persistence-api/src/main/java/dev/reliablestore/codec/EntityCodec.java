package dev.reliablestore.codec;

/**
 * How entities become stored bytes and back: the one serialization seam of every provider (as
 * Curator's ModeledFramework has its {@code ModelSerializer}). {@link JacksonEntityCodec#defaults()}
 * is the default of every provider; a user may pass another per factory
 * ({@link dev.reliablestore.api.Persistence#openFactory(String, java.util.Map, EntityCodec)}).
 *
 * <p>A codec must be exact: what {@link TypeCodec#decode} returns {@code equals} what was encoded.
 */
public interface EntityCodec {

    /**
     * A short, stable name of the encoding (e.g. {@code jackson-json}); providers record it with
     * the data and refuse to read data recorded under another id.
     */
    String id();

    /** Whether the bytes are a JSON text (providers and tools may then embed or show them as JSON). */
    boolean isJson();

    /**
     * The codec of one entity type, checked now: a type that could be written but not read back
     * is refused here, when a store is opened, not at its first read.
     *
     * @throws UnusableEntityTypeException naming the type, what is wrong and what to change
     */
    <T> TypeCodec<T> forType(Class<T> type);

    /** Encodes and decodes entities of one type; thread-safe. */
    interface TypeCodec<T> {

        /** The type this codec reads and writes. */
        Class<T> type();

        /**
         * The stored bytes of {@code entity}.
         *
         * @throws CodecException when the entity cannot be encoded, or could not be decoded again
         */
        byte[] encode(T entity) throws CodecException;

        /**
         * The entity held by {@code bytes}.
         *
         * @throws CodecException when the bytes are not an encoded entity of this type; the message
         *         never quotes the bytes (stored data may be confidential)
         */
        T decode(byte[] bytes) throws CodecException;
    }
}
