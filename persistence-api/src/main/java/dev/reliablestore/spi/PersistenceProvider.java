package dev.reliablestore.spi;

import dev.reliablestore.api.StoreFactory;

import java.util.Map;

/**
 * A persistence provider, found through {@link java.util.ServiceLoader} (list the implementation in
 * {@code META-INF/services/dev.reliablestore.spi.PersistenceProvider}) and chosen by its stable
 * {@link #name()}. Implementations have a public no-argument constructor and are stateless: every
 * {@link #open} returns an independent connection.
 */
public interface PersistenceProvider {

    /** The stable name users pick the provider by, e.g. {@code "file"} or {@code "cluster-registry"}. */
    String name();

    /**
     * Opens a connection to the provider's storage.
     *
     * @param configuration the provider's options as strings; every key the provider does not know
     *                      is refused with a {@link dev.reliablestore.api.ConfigurationException}
     *                      naming it, so a misspelt option is never silently ignored
     */
    StoreFactory open(Map<String, String> configuration);
}
