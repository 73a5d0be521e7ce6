package dev.reliablestore.spi;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;

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

    /**
     * Opens a connection whose stores encode entities with {@code codec} instead of the default
     * ({@link JacksonEntityCodec#defaults()}). A provider that cannot use another codec keeps this
     * default implementation, which refuses any codec but the default rather than ignoring it.
     */
    default StoreFactory open(Map<String, String> configuration, EntityCodec codec) {
        if (codec != JacksonEntityCodec.defaults()) {
            throw new ConfigurationException("the \"" + name() + "\" provider cannot use the codec " + codec
                    + "; it encodes entities with the default " + JacksonEntityCodec.defaults());
        }
        return open(configuration);
    }
}
