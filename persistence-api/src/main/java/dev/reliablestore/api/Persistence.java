package dev.reliablestore.api;

import dev.reliablestore.spi.PersistenceProvider;

import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The entry point: finds a provider by its stable name through {@link ServiceLoader} and opens it.
 *
 * <pre>{@code
 * try (EntityStore<Customer> customers =
 *          Persistence.open("file", Map.of("directory", "data"), Customer.class)) {
 *     long v = customers.save("CUST-001", new Customer("Acme"));
 * }
 * }</pre>
 */
public final class Persistence {

    private Persistence() {
    }

    /**
     * Opens one store. Closing the store also closes the connection opened for it; to keep several
     * types on one connection use {@link #openFactory}.
     *
     * @throws ConfigurationException when no provider has that name or the configuration is invalid
     */
    public static <T> EntityStore<T> open(String providerName, Map<String, String> configuration, Class<T> type) {
        StoreFactory factory = openFactory(providerName, configuration);
        try {
            return new OwningEntityStore<>(factory.store(type), factory);
        } catch (RuntimeException e) {
            factory.close();
            throw e;
        }
    }

    /**
     * Opens a provider's connection, from which stores of several types are taken.
     *
     * @throws ConfigurationException when no provider has that name or the configuration is invalid
     */
    public static StoreFactory openFactory(String providerName, Map<String, String> configuration) {
        return provider(providerName).open(Map.copyOf(configuration));
    }

    /**
     * Opens a provider's connection whose stores encode entities with {@code codec}, e.g.
     * {@code JacksonEntityCodec.withModules(new KotlinModule.Builder().build())}; the default is
     * {@link JacksonEntityCodec#defaults()}.
     *
     * @throws ConfigurationException when no provider has that name, the configuration is invalid or
     *                                the provider cannot use another codec
     */
    public static StoreFactory openFactory(String providerName, Map<String, String> configuration, EntityCodec codec) {
        return provider(providerName).open(Map.copyOf(configuration), Objects.requireNonNull(codec, "codec"));
    }

    /** The provider registered under the name. */
    public static PersistenceProvider provider(String providerName) {
        Map<String, PersistenceProvider> all = providers();
        PersistenceProvider provider = all.get(providerName);
        if (provider == null) {
            throw new ConfigurationException("no persistence provider named \"" + providerName
                    + "\" on the class path; available: " + all.keySet());
        }
        return provider;
    }

    /** Every provider on the class path, by name. */
    public static Map<String, PersistenceProvider> providers() {
        Map<String, PersistenceProvider> byName = new TreeMap<>();
        for (PersistenceProvider p : ServiceLoader.load(PersistenceProvider.class, Persistence.class.getClassLoader())) {
            PersistenceProvider previous = byName.putIfAbsent(p.name(), p);
            if (previous != null && previous.getClass() != p.getClass()) {
                throw new ConfigurationException("two persistence providers claim the name \"" + p.name() + "\": "
                        + previous.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        return byName;
    }
}
