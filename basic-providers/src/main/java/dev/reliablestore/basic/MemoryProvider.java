package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.spi.PersistenceProvider;

import java.util.Map;

/**
 * The {@code "memory"} provider: entities kept in the heap of this process, for tests and
 * prototypes. Every {@link #open} starts an empty, private storage that disappears with its
 * factory. Values are copied through the same JSON codec as the file provider, so a stored entity
 * never changes when the caller mutates its object, and an entity that the file provider could not
 * store is refused here too.
 *
 * <p>Configuration: {@link #OPTIONS} (docs/providers.md shows it): {@value #MAX_ENTITY_SIZE}.
 */
public final class MemoryProvider implements PersistenceProvider {

    /** The provider name. */
    public static final String NAME = "memory";
    /** Configuration key: the largest encoded entity (a size: bytes or KiB…GiB). */
    public static final String MAX_ENTITY_SIZE = "maxEntitySize";
    /** Default of {@link #MAX_ENTITY_SIZE}: 16 MiB. */
    public static final long DEFAULT_MAX_ENTITY_BYTES = 16L * 1024 * 1024;
    /** Upper bound of {@link #MAX_ENTITY_SIZE}: 1 GiB. */
    public static final long MAX_MAX_ENTITY_BYTES = 1L << 30;

    static final Option<Long> MAX_ENTITY_SIZE_OPTION = Option.size(MAX_ENTITY_SIZE, DEFAULT_MAX_ENTITY_BYTES, 1, MAX_MAX_ENTITY_BYTES,
            "the largest entity, as its JSON; larger ones fail with `EntityTooLargeException`, nothing written")
            .withAlias("memory.max-entity-bytes", v -> v);
    /** Every option of the memory provider. */
    public static final OptionTable OPTIONS = OptionTable.of("the memory provider", MAX_ENTITY_SIZE_OPTION);

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
        return new MemoryStoreFactory(codec, OPTIONS.read(configuration, ConfigurationException::new).get(MAX_ENTITY_SIZE_OPTION));
    }
}
