package dev.reliablestore.basic;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.EntityStoreTck;

import java.util.Map;
import java.util.OptionalLong;

/** The provider test kit against the memory provider, opened by name as a user would. */
class MemoryProviderTckTest extends EntityStoreTck {

    private static final long LIMIT = 256 * 1024;

    @Override
    protected StoreFactory openFactory() {
        return Persistence.openFactory("memory", Map.of(MemoryProvider.MAX_ENTITY_SIZE, Long.toString(LIMIT)));
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(LIMIT);
    }
}
