package dev.reliablestore.registry;

import dev.reliablestore.registry.spi.ClusterRegistryBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Iterator;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Opens a {@link ClusterRegistry} by URI: {@code embedded:<dir>},
 * {@code zookeeper://host:port[,host:port…]/<chroot>}, {@code clusapi://<cluster>} — whichever
 * backends are on the class path.
 */
public final class ClusterRegistries {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterRegistries.class);

    private ClusterRegistries() {
    }

    public static ClusterRegistry open(String uri) {
        return open(uri, Map.of());
    }

    public static ClusterRegistry open(String uri, Map<String, String> options) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new RegistryArgumentException("registry URI \"" + uri + "\" is malformed: " + e.getMessage());
        }
        String scheme = parsed.getScheme();
        if (scheme == null) {
            throw new RegistryArgumentException("registry URI \"" + uri + "\" has no scheme; expected one of " + backends().keySet()
                    + " (e.g. embedded:./data)");
        }
        ClusterRegistryBackend backend = backends().get(scheme);
        if (backend == null) {
            throw new RegistryArgumentException("no registry backend for scheme \"" + scheme + "\" in \"" + uri
                    + "\"; available: " + backends().keySet());
        }
        return backend.open(parsed, Map.copyOf(options));
    }

    /**
     * The option keys the backend of {@code uri}'s scheme accepts; empty when no backend serves the
     * scheme (opening it then fails, naming the available ones).
     */
    public static java.util.Set<String> optionNames(String uri) {
        int colon = uri.indexOf(':');
        ClusterRegistryBackend backend = colon <= 0 ? null : backends().get(uri.substring(0, colon));
        return backend == null ? java.util.Set.of() : backend.optionNames();
    }

    /** The backends on the class path, by scheme. */
    public static Map<String, ClusterRegistryBackend> backends() {
        Map<String, ClusterRegistryBackend> byScheme = new TreeMap<>();
        Iterator<ClusterRegistryBackend> it = ServiceLoader.load(ClusterRegistryBackend.class, ClusterRegistries.class.getClassLoader()).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                ClusterRegistryBackend b = it.next();
                byScheme.putIfAbsent(b.scheme(), b);
            } catch (ServiceConfigurationError | LinkageError e) {
                // a backend whose client library is absent (they are optional dependencies) is simply not offered
                LOG.debug("registry backend not available: {}", e.toString());
            }
        }
        return byScheme;
    }
}
