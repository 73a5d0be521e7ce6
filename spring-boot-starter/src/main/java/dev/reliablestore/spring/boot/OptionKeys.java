package dev.reliablestore.spring.boot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.PropertySources;
import org.springframework.core.env.SystemEnvironmentPropertySource;

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
 * for the provider to accept or refuse with its own message. Keys whose case-sensitive part no table
 * knows ({@code cachedReads.<Type>}, {@code sites.<site>}) are refused when their case is lost.
 */
final class OptionKeys {

    private static final String CLUSTER_REGISTRY = "cluster-registry";
    private static final String CLUSTER_NAME = "clusterName";
    private static final String REGISTRY_PREFIX = "registry.";
    private static final String CACHED_READS_PREFIX = "cachedReads.";
    private static final String SITES_PREFIX = "sites.";
    private static final String LOCAL_SITE = "localSite";
    private static final ConfigurationPropertyName OPTIONS = ConfigurationPropertyName.of("reliablestore.options");
    private static final ConfigurationPropertyName SITES = ConfigurationPropertyName.of("reliablestore.options.sites");

    private OptionKeys() {
    }

    /** {@link #resolve(String, Map)}, once no {@code sites.*} key is bound from a source that loses case ({@link #caseLostSiteKeys}). */
    static Map<String, String> resolve(String provider, Map<String, String> options, PropertySources sources) {
        if (CLUSTER_REGISTRY.equals(provider)) {
            List<String> lost = caseLostSiteKeys(sources);
            if (!lost.isEmpty()) {
                // the site name after the prefix is case-sensitive, and "paris" is another site than "Paris": the values a
                // factory of site "paris" writes are sealed for it, and a factory of site "Paris" refuses them
                throw new ConfigurationException((lost.size() == 1 ? "option key " : "option keys ") + String.join(", ", lost)
                        + (lost.size() == 1 ? " has" : " have") + " lost " + (lost.size() == 1 ? "its" : "their") + " case (as keys bound from"
                        + " environment variables do), and the site name after \"" + SITES_PREFIX + "\" is case-sensitive; set them as"
                        + " reliablestore.options." + SITES_PREFIX + "<Site> (and reliablestore.options." + SITES_PREFIX + "<Site>."
                        + REGISTRY_PREFIX + "<option>) in a properties or YAML file, or in SPRING_APPLICATION_JSON");
            }
        }
        return resolve(provider, options);
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
            if (!key.startsWith(REGISTRY_PREFIX) && !key.startsWith(SITES_PREFIX)
                    && !key.regionMatches(true, 0, CACHED_READS_PREFIX, 0, CACHED_READS_PREFIX.length())) {
                key = match(key, names);
            }
            put(resolved, key, e);
        }
        // sites.<site> = the site's registry URI; with sites the local site's is the registry the factory opens
        Map<String, String> sites = new LinkedHashMap<>();
        resolved.forEach((key, value) -> {
            if (key.startsWith(SITES_PREFIX) && key.indexOf('.', SITES_PREFIX.length()) < 0) {
                sites.put(key.substring(SITES_PREFIX.length()), value);
            }
        });
        String clusterName = sites.containsKey(resolved.get(LOCAL_SITE)) ? sites.get(resolved.get(LOCAL_SITE))
                : resolved.getOrDefault(CLUSTER_NAME, ClusterPersistenceConfiguration.DEFAULT_CLUSTER);
        Set<String> backend = optionNames(clusterName);
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : resolved.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.', SITES_PREFIX.length());
            if (key.startsWith(REGISTRY_PREFIX)) {
                key = REGISTRY_PREFIX + match(key.substring(REGISTRY_PREFIX.length()), backend);
            } else if (key.startsWith(SITES_PREFIX) && dot > 0 && key.startsWith(REGISTRY_PREFIX, dot + 1)
                    && sites.containsKey(key.substring(SITES_PREFIX.length(), dot))) {
                // sites.<site>.registry.<option>: an option of that site's backend
                int option = dot + 1 + REGISTRY_PREFIX.length();
                key = key.substring(0, option) + match(key.substring(option), optionNames(sites.get(key.substring(SITES_PREFIX.length(), dot))));
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

    /**
     * The {@code sites.*} option keys bound from environment variables, each with where it comes from:
     * Spring lower-cases the map keys it derives from them ({@code RELIABLESTORE_OPTIONS_SITES_PARIS}
     * becomes {@code sites.paris}), and the site name is case-sensitive and in no table. Other sources
     * keep the case; so does every value (a {@code localSite} or {@code preferredSite} from one is taken as written).
     */
    static List<String> caseLostSiteKeys(PropertySources sources) {
        List<String> lost = new ArrayList<>();
        for (PropertySource<?> source : sources) {
            if (!(source instanceof SystemEnvironmentPropertySource)) {
                continue;
            }
            for (ConfigurationPropertySource adapted : ConfigurationPropertySources.from(source)) {
                if (!(adapted instanceof IterableConfigurationPropertySource iterable)) {
                    continue;
                }
                iterable.stream().filter(SITES::isAncestorOf).sorted().forEach(name -> {
                    ConfigurationProperty property = iterable.getConfigurationProperty(name);
                    lost.add("\"" + optionKey(name) + "\" (" + (property == null || property.getOrigin() == null ? source.getName()
                            : property.getOrigin()) + ")");
                });
            }
        }
        return lost;
    }

    /**
     * A warning for each property under {@code reliablestore.options} whose map key Spring Boot binds
     * with characters dropped (it keeps only the ASCII letters, digits, '-' and '_' of an unbracketed key):
     * {@code cachedReads.Käse} becomes {@code cachedReads.Kse}, an option for a type no store has,
     * which the provider cannot tell from a valid one. Environment variables are left out: Spring
     * reads their names otherwise, and {@link #resolve} handles what they lose.
     */
    static List<String> lossyKeys(PropertySources sources) {
        List<String> warnings = new ArrayList<>();
        for (PropertySource<?> source : sources) {
            if (!(source instanceof EnumerablePropertySource<?> enumerable) || source instanceof SystemEnvironmentPropertySource) {
                continue;
            }
            for (String property : enumerable.getPropertyNames()) {
                ConfigurationPropertyName name;
                try {
                    name = ConfigurationPropertyName.adapt(property, '.');
                } catch (RuntimeException notAName) {
                    continue; // Spring does not bind it either
                }
                if (!OPTIONS.isAncestorOf(name)) {
                    continue;
                }
                StringBuilder bound = new StringBuilder();
                StringBuilder key = new StringBuilder();
                for (int i = 0; i < name.getNumberOfElements(); i++) {
                    String element = name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL);
                    bound.append(name.chop(i + 1).isLastElementIndexed() ? "[" + element + "]" : (i == 0 ? "" : ".") + element);
                    if (i >= OPTIONS.getNumberOfElements()) {
                        key.append(key.isEmpty() ? "" : ".").append(element);
                    }
                }
                // "a.[b]" is written "a[b]" by Spring: the same name
                if (!bound.toString().equals(property.replace(".[", "["))) {
                    // what follows "reliablestore.options." as written (the two names have no dot in any spelling)
                    int dot = property.indexOf('.', property.indexOf('.') + 1);
                    String written = dot < 0 ? key.toString() : property.substring(dot + 1);
                    warnings.add("property " + property + " (in " + source.getName() + ") is bound as option \"" + key
                            + "\": Spring Boot keeps only the ASCII letters, digits, '-' and '_' of a map key"
                            + " not in brackets; if the option is \"" + written + "\", write it as "
                            + "reliablestore.options[" + written + "]");
                }
            }
        }
        return warnings;
    }

    /** What follows "reliablestore.options." in {@code name}, as Spring binds it into the options' map. */
    private static String optionKey(ConfigurationPropertyName name) {
        StringBuilder key = new StringBuilder();
        for (int i = OPTIONS.getNumberOfElements(); i < name.getNumberOfElements(); i++) {
            key.append(key.isEmpty() ? "" : ".").append(name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL));
        }
        return key.toString();
    }

    /** The option names of the backend of a registry URI; a bare cluster name means clusapi://<name>, as the provider reads it. */
    private static Set<String> optionNames(String clusterName) {
        String uri = clusterName.strip();
        return ClusterRegistries.optionNames(uri.contains(":") ? uri : "clusapi://" + uri);
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
