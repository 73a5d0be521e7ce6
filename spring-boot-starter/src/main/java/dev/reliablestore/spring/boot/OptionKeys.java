package dev.reliablestore.spring.boot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.cluster.ClusterPersistenceConfiguration;
import dev.reliablestore.options.Option;
import dev.reliablestore.registry.ClusterRegistries;

/**
 * Gives the option keys Spring lower-cased back their documented spelling. Spring binds the map
 * keys of environment variables in lower case ({@code RELIABLESTORE_OPTIONS_CACHETTL} becomes
 * {@code cachettl}) while option names are case-sensitive, so a key that is not an option as
 * written but matches exactly one option of the provider's table (or, under {@code registry.}, of
 * the registry backend's) when case is ignored is renamed to it. Anything else is passed unchanged,
 * for the provider to accept or refuse with its own message.
 */
final class OptionKeys {

    private static final String CLUSTER_REGISTRY = "cluster-registry";
    private static final String CLUSTER_NAME = "clusterName";
    private static final String REGISTRY_PREFIX = "registry.";
    private static final String CACHED_READS_PREFIX = "cachedReads.";

    private OptionKeys() {
    }

    static Map<String, String> resolve(String provider, Map<String, String> options) {
        if (!CLUSTER_REGISTRY.equals(provider)) {
            // the starter knows only the cluster-registry provider's table; other providers get the keys as written
            return options;
        }
        Set<String> names = new TreeSet<>();
        for (Option<?> o : ClusterPersistenceConfiguration.OPTIONS.options()) {
            names.add(o.name());
            o.aliases().forEach(a -> names.add(a.name()));
        }
        Map<String, String> resolved = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(REGISTRY_PREFIX) && !key.regionMatches(true, 0, CACHED_READS_PREFIX, 0, CACHED_READS_PREFIX.length())) {
                key = match(key, names);
            }
            put(resolved, key, e);
        }
        String clusterName = resolved.getOrDefault(CLUSTER_NAME, ClusterPersistenceConfiguration.DEFAULT_CLUSTER);
        // a bare cluster name means clusapi://<name>, as the provider reads it
        Set<String> backend = ClusterRegistries.optionNames(clusterName.contains(":") ? clusterName : "clusapi://" + clusterName);
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : resolved.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(REGISTRY_PREFIX)) {
                key = REGISTRY_PREFIX + match(key.substring(REGISTRY_PREFIX.length()), backend);
            } else if (key.regionMatches(true, 0, CACHED_READS_PREFIX, 0, CACHED_READS_PREFIX.length()) && !key.startsWith(CACHED_READS_PREFIX)) {
                // the type name after the prefix is case-sensitive and no table knows it: its case is lost, not guessable
                throw new ConfigurationException("option key \"" + key + "\" has lost its case (as keys bound from environment variables do),"
                        + " and the entity type name after \"" + CACHED_READS_PREFIX + "\" is case-sensitive; set it as"
                        + " reliablestore.options." + CACHED_READS_PREFIX + "<Type> in a properties or YAML file, or in SPRING_APPLICATION_JSON");
            }
            put(result, key, e);
        }
        return result;
    }

    /** The key itself when it is a name; otherwise the one name equal to it ignoring case; otherwise the key. */
    private static String match(String key, Set<String> names) {
        if (names.contains(key)) {
            return key;
        }
        List<String> same = new ArrayList<>();
        for (String n : names) {
            if (n.toLowerCase(Locale.ROOT).equals(key.toLowerCase(Locale.ROOT))) {
                same.add(n);
            }
        }
        return same.size() == 1 ? same.get(0) : key;
    }

    private static void put(Map<String, String> target, String key, Map.Entry<String, String> from) {
        String before = target.put(key, from.getValue());
        if (before != null) {
            throw new ConfigurationException("option " + key + " is set twice, once as \"" + from.getKey()
                    + "\" (in another case): remove one of them");
        }
    }
}
