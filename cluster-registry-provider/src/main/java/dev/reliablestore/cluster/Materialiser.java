package dev.reliablestore.cluster;

import java.util.function.Predicate;

/**
 * Turns a store's decoded values into entities. A value read from the registry is decoded for its
 * reader alone. A hit in the local cache is decoded afresh on every read (copy), unless the store's
 * {@link CachedReads} lets readers share instances: then the instance decoded at the first hit is
 * kept in the cache entry and returned to every later hit, with no decoding (zero-copy).
 */
final class Materialiser<T> {

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
        Object held = slot.instance();
        if (held == null) {
            T fresh = codec.read(d.json(), where);
            // two first hits may race: both keep what the slot kept first, so every later hit gets one instance
            held = slot.offer(shareable.test(fresh) ? fresh : NOT_SHARED);
            return held == NOT_SHARED ? fresh : (T) held;
        }
        return held == NOT_SHARED ? codec.read(d.json(), where) : (T) held;
    }
}
