package dev.reliablestore.spring.boot;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code reliablestore.*} properties: which provider to open and its options, passed unchanged
 * to {@code Persistence.openFactory(provider, options)}, so the provider validates them exactly as it
 * does everywhere else (an unknown or malformed option fails the context with its
 * {@code ConfigurationException}).
 */
@ConfigurationProperties("reliablestore")
public class ReliableStoreProperties {

    /** The persistence provider's name: cluster-registry, file or memory (the latter two need basic-providers). */
    private String provider = "cluster-registry";

    /**
     * The provider's options under their documented names (docs/configuration.md, docs/providers.md),
     * e.g. reliablestore.options.clusterName=embedded:data, reliablestore.options.registry.nodeName=n1;
     * secrets as env:NAME or file:PATH references. Names are case-sensitive: write them as documented,
     * not in kebab case.
     */
    private Map<String, String> options = new LinkedHashMap<>();

    public String getProvider() {
        return provider;
    }

    public void setProvider(String provider) {
        this.provider = provider;
    }

    public Map<String, String> getOptions() {
        return options;
    }

    public void setOptions(Map<String, String> options) {
        this.options = options;
    }
}
