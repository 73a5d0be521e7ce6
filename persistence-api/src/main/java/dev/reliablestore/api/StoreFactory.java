package dev.reliablestore.api;

/**
 * One open connection to a provider's storage (a directory, a registry, an ensemble), from which
 * stores for any number of entity types are taken. Stores share the factory's resources; closing
 * the factory closes them all.
 */
public interface StoreFactory extends AutoCloseable {

    /** The provider's stable name, e.g. {@code "cluster-registry"}. */
    String providerName();

    /** A store for the type, named by the class's simple name (e.g. {@code Customer}). */
    default <T> EntityStore<T> store(Class<T> type) {
        return store(type.getSimpleName(), type);
    }

    /**
     * A store for the entity type {@code typeName}, whose values are of class {@code type}.
     * Asking twice for the same name gives stores over the same data.
     *
     * @throws InvalidIdException when the type name breaks the rules of {@link EntityIds}
     */
    <T> EntityStore<T> store(String typeName, Class<T> type);

    /** Closes every store taken from this factory and releases the connection. Idempotent. */
    @Override
    void close();
}
