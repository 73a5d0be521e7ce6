package dev.reliablestore.basic;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.spi.PersistenceProvider;

import java.util.Map;
import java.util.Set;

/**
 * The {@code "memory"} provider: entities kept in the heap of this process, for tests and
 * prototypes. Every {@link #open} starts an empty, private storage that disappears with its
 * factory. Values are copied through the same JSON codec as the file provider, so a stored entity
 * never changes when the caller mutates its object, and an entity that the file provider could not
 * store is refused here too.
 *
 * <p>Configuration: {@value #MAX_ENTITY_BYTES} — the largest entity, in bytes of its JSON encoding;
 * default {@value #DEFAULT_MAX_ENTITY_BYTES} (16 MiB), from 1 to {@value #MAX_MAX_ENTITY_BYTES} (1 GiB).
 */
public final class MemoryProvider implements PersistenceProvider {

    /** The provider name. */
    public static final String NAME = "memory";
    /** Configuration key: the largest encoded entity, in bytes. */
    public static final String MAX_ENTITY_BYTES = "memory.max-entity-bytes";
    /** Default of {@link #MAX_ENTITY_BYTES}: 16 MiB. */
    public static final long DEFAULT_MAX_ENTITY_BYTES = 16L * 1024 * 1024;
    /** Upper bound of {@link #MAX_ENTITY_BYTES}: 1 GiB. */
    public static final long MAX_MAX_ENTITY_BYTES = 1L << 30;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StoreFactory open(Map<String, String> configuration) {
        return open(configuration, JacksonEntityCodec.defaults());
    }

    @Override
    public StoreFactory open(Map<String, String> configuration, EntityCodec codec) {
        ProviderConfig config = new ProviderConfig(NAME, configuration, Set.of(MAX_ENTITY_BYTES));
        long max = config.longValue(MAX_ENTITY_BYTES, DEFAULT_MAX_ENTITY_BYTES, 1, MAX_MAX_ENTITY_BYTES);
        return new MemoryStoreFactory(codec, max);
    }
}
