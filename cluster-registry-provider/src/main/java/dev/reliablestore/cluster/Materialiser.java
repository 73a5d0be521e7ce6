package dev.reliablestore.cluster;

import java.util.function.Predicate;

/**
 * Turns a store's decoded values into entities. A value read from the registry is decoded for its
 * reader alone. A hit in the local cache is decoded afresh on every read (copy), unless the store's
 * {@link CachedReads} lets readers share instances: then the instance decoded at the first hit is
 * kept in the cache entry and returned to every later hit, with no decoding (zero-copy).
 *
 * <p>The cache is the type name's, shared by every store of that name the factory opens, and two of
 * them may read it as different classes: the entry keeps the instance with the class it was decoded
 * as, and a store of another class decodes its own on every hit.
 */
final class Materialiser<T> {

    /** What a cache entry keeps: the instance decoded as {@code type}, or {@link #NOT_SHARED}. */
    private record Kept(Class<?> type, Object instance) {
    }

    /** Kept in a cache entry whose decoded instance failed the sharing test: decode it on every hit. */
    private static final Object NOT_SHARED = new Object();

    private final StoreCodec<T> codec;
    /** Whether a decoded instance may be shared; null: none may (copy on every hit). */
    private final Predicate<Object> shareable;

    Materialiser(StoreCodec<T> codec, CachedReads mode) {
        this.codec = codec;
        this.shareable = switch (mode) {
            case COPY -> null;
            case SHARE -> v -> true;
            case AUTO -> DeepImmutability.of(codec.type());
        };
    }

    @SuppressWarnings("unchecked")
    T value(EntityValues.Decoded d, String where) {
        EntityValues.SharedSlot slot = d.cached();
        if (shareable == null || slot == null) {
            return codec.read(d.json(), where);
        }
        Kept held = (Kept) slot.instance();
        if (held == null) {
            T fresh = codec.read(d.json(), where);
            // two first hits may race: both keep what the slot kept first, so every later hit gets one instance
            held = (Kept) slot.offer(new Kept(codec.type(), shareable.test(fresh) ? fresh : NOT_SHARED));
            return held.type() == codec.type() && held.instance() != NOT_SHARED ? (T) held.instance() : fresh;
        }
        return held.type() == codec.type() && held.instance() != NOT_SHARED ? (T) held.instance() : codec.read(d.json(), where);
    }
}
