package dev.reliablestore.registry.spi;

import dev.reliablestore.registry.ClusterRegistry;

import java.net.URI;
import java.util.Map;
import java.util.Set;

/**
 * A registry backend, found through {@link java.util.ServiceLoader} (listed in
 * {@code META-INF/services/dev.reliablestore.registry.spi.ClusterRegistryBackend}) by its URI scheme.
 */
public interface ClusterRegistryBackend {

    /** The URI scheme this backend opens, e.g. {@code embedded}. */
    String scheme();

    /**
     * Opens the registry.
     *
     * @param options backend options; unknown keys are refused with a
     *                {@link dev.reliablestore.registry.RegistryArgumentException} naming them
     */
    ClusterRegistry open(URI uri, Map<String, String> options);

    /**
     * The option keys {@link #open} accepts. A provider whose own settings have the same names
     * (e.g. {@code failoverTimeout}) passes them down only to a backend that lists them.
     */
    default Set<String> optionNames() {
        return Set.of();
    }
}
