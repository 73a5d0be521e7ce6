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
     * The option keys {@code uri}'s query sets (decoded; empty without a query, or when {@code uri} or
     * its query does not parse, which opening it reports): a layer above that passes its own settings
     * down leaves these alone, since the URI names them for the registry.
     */
    public static java.util.Set<String> queryOptionNames(String uri) {
        try {
            return java.util.Set.copyOf(queryOptions(new URI(uri)).keySet());
        } catch (URISyntaxException | RegistryArgumentException malformed) {
            return java.util.Set.of();
        }
    }

    /**
     * The options in the query of {@code uri}, decoded, in their order. The query is form-encoded
     * ({@code key=value&key=value}, as {@link URLDecoder} reads it): {@code %XX} escapes are UTF-8 bytes and
     * {@code +} is a space, so a {@code +} or {@code &} in a value is written {@code %2B} or {@code %26}.
     * Empty pairs ({@code &&}) are skipped. The one parser of registry URI queries.
     *
     * @throws RegistryArgumentException a pair that is not {@code key=value} (or has an empty key), or a
     *                                   key given twice; the message never shows the value of a secret
     *                                   option ({@link #isSecretOption}) or a pair without {@code =}
     */
    public static Map<String, String> queryOptions(URI uri) {
        String query = uri.getRawQuery();
        if (query == null && uri.isOpaque()) {
            // java.net.URI parses no query out of an opaque URI ("embedded:data?digest=…"), yet one is there to refuse
            int q = uri.getRawSchemeSpecificPart().indexOf('?');
            query = q < 0 ? null : uri.getRawSchemeSpecificPart().substring(q + 1);
        }
        Map<String, String> options = new java.util.LinkedHashMap<>();
        if (query == null) {
            return options;
        }
        int index = 0;
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            index++;
            int eq = pair.indexOf('=');
            // java.net.URI has refused a malformed %-escape already
            String key = eq <= 0 ? null : URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key == null || key.isEmpty()) {
                // not shown: without its '=' a pair might be a secret typed with another separator
                throw new RegistryArgumentException("option " + index + " of the query of registry URI " + redact(uri.toString())
                        + " is not key=value");
            }
            String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (!isSecretOption(key) && holdsASecretOption(value)) {
                // "tls=true;digest=app:pw": another separator than '&' would put a secret into a value that messages show
                throw new RegistryArgumentException("the value of option \"" + key + "\" in registry URI " + redact(uri.toString())
                        + " holds a secret option's name and '=' (separate options with '&'); not shown");
            }
            if (options.put(key, value) != null) {
                throw new RegistryArgumentException("option \"" + key + "\" is given twice in the query of registry URI "
                        + redact(uri.toString()));
            }
        }
        return options;
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
     * ({@code digest}, and any key containing {@code password}, in any case), of values holding
     * {@code ;}, {@code =} or a secret option's name, and any query pair without {@code =} replaced by
     * {@code ***}, and user
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
            // a pair without '=' is shown as *** too: it may be a secret typed with another separator ("digest:app:pw")
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            boolean hidden = isSecretOption(key) || value.indexOf(';') >= 0 || value.indexOf('=') >= 0 || holdsASecretOption(value);
            b.append(i == 0 ? "" : "&").append(eq < 0 ? (pair.isEmpty() ? "" : "***") : hidden ? pair.substring(0, eq) + "=***" : pair);
        }
        return b.toString();
    }

    /** Whether a registry option's value is a secret (never shown): {@code digest}, and any key containing {@code password}, in any case. */
    public static boolean isSecretOption(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.equals("digest") || k.contains("password");
    }

    /** Whether a value holds a secret option's name followed by {@code =} (two options run together). */
    private static boolean holdsASecretOption(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        return v.contains("digest=") || v.matches("(?s).*password[^=&]*=.*");
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
