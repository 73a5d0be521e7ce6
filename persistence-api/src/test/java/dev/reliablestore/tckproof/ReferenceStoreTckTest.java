package dev.reliablestore.tckproof;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.EntityStoreTck;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/** The TCK against the correct reference store: every test passes. */
class ReferenceStoreTckTest extends EntityStoreTck {

    private ReferenceStorage storage;

    @Override
    protected StoreFactory openFactory() {
        storage = new ReferenceStorage();
        return new ReferenceStoreFactory(storage, Set.of());
    }

    @Override
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.of(new ReferenceStoreFactory(storage, Set.of()));
    }

    @Override
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.of(ReferenceStoreFactory.MAX_ENTITY_BYTES);
    }
}
