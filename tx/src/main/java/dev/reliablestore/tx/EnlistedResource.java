package dev.reliablestore.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.spi.tx.TransactionalResource;

/**
 * A resource enlisted in a {@link Transaction}: hands out its stores bound to the transaction.
 * Reads see the transaction's own writes; writes become visible to others at commit.
 */
public interface EnlistedResource {

    /** The resource. */
    TransactionalResource resource();

    /** The store of the entity type {@code typeName} inside the transaction. */
    <T> EntityStore<T> store(String typeName, Class<T> type);

    /** The store named by the class's simple name inside the transaction. */
    default <T> EntityStore<T> store(Class<T> type) {
        return store(type.getSimpleName(), type);
    }
}
