package dev.reliablestore.registry;

import dev.reliablestore.registry.spi.ClusterRegistryBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
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
            throw new RegistryArgumentException("registry URI \"" + redact(uri) + "\" is malformed: " + redact(e.getMessage()));
        }
        String scheme = parsed.getScheme();
        if (scheme == null) {
            throw new RegistryArgumentException("registry URI \"" + redact(uri) + "\" has no scheme; expected one of " + backends().keySet()
                    + " (e.g. embedded:./data)");
        }
        ClusterRegistryBackend backend = backends().get(scheme);
        if (backend == null) {
            throw new RegistryArgumentException("no registry backend for scheme \"" + scheme + "\" in \"" + redact(uri)
                    + "\"; available: " + backends().keySet());
        }
        return backend.open(parsed, Map.copyOf(options));
    }

    /**
     * The option keys {@code uri}'s query sets (decoded; empty without a query or when {@code uri} does
     * not parse, which opening it reports): a layer above that passes its own settings down leaves these
     * alone, since the URI names them for the registry.
     */
    public static java.util.Set<String> queryOptionNames(String uri) {
        String query;
        try {
            query = new URI(uri).getRawQuery();
        } catch (URISyntaxException e) {
            return java.util.Set.of();
        }
        java.util.Set<String> keys = new java.util.LinkedHashSet<>();
        if (query != null) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                if (key.isEmpty()) {
                    continue;
                }
                try {
                    keys.add(URLDecoder.decode(key, StandardCharsets.UTF_8));
                } catch (IllegalArgumentException malformed) {
                    // a bad escape: opening the URI refuses it
                }
            }
        }
        return java.util.Set.copyOf(keys);
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

    /**
     * {@code uri} as messages and logs may show it: the values of secret options in its query
     * ({@code digest}, and any key containing {@code password}) replaced by {@code ***}, and user
     * information before a host dropped. Works on any text, a malformed URI included.
     */
    public static String redact(String uri) {
        if (uri == null) {
            return null;
        }
        int query = uri.indexOf('?');
        String head = query < 0 ? uri : uri.substring(0, query);
        // The authority is whatever follows the scheme and any number of slashes: a mistyped
        // "zookeeper:/user:pw@host" or "zookeeper:user:pw@host" must not show its password either.
        int authority = head.indexOf(':') + 1;
        while (authority < head.length() && head.charAt(authority) == '/') {
            authority++;
        }
        int end = head.indexOf('/', authority);
        int at = head.lastIndexOf('@', end < 0 ? head.length() - 1 : end);
        if (at >= authority) {
            head = head.substring(0, authority) + "***@" + head.substring(at + 1);
        }
        if (query < 0) {
            return head;
        }
        StringBuilder b = new StringBuilder(head).append('?');
        String[] pairs = uri.substring(query + 1).split("&", -1);
        for (int i = 0; i < pairs.length; i++) {
            String pair = pairs[i];
            int eq = pair.indexOf('=');
            String key;
            try {
                key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                key = "password"; // cannot tell what it is: not shown
            }
            b.append(i == 0 ? "" : "&").append(eq >= 0 && isSecretOption(key) ? pair.substring(0, eq) + "=***" : pair);
        }
        return b.toString();
    }

    /** Whether a registry option's value is a secret (never shown): {@code digest}, and any key containing {@code password}. */
    public static boolean isSecretOption(String key) {
        return key.equals("digest") || key.toLowerCase(Locale.ROOT).contains("password");
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
