package dev.reliablestore.spring.boot;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
     * secrets as env:NAME or file:PATH references. Write names as documented, not in kebab case; a
     * name in another case (as environment variables give) is taken when it matches one option;
     * cachedReads.<Type> and sites.<site> keys cannot come from environment variables (their case is lost).
     */
    private Map<String, String> options = new LinkedHashMap<>();

    /** JTA over Narayana, when tx-narayana and spring-tx are on the class path. */
    private final Jta jta = new Jta();

    public Jta getJta() {
        return jta;
    }

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

    /** The {@code reliablestore.jta.*} properties: NarayanaJta's builder keys (see its class comment). */
    public static class Jta {

        /** Whether to configure Narayana JTA when tx-narayana and spring-tx are on the class path. */
        private boolean enabled = true;

        /** Required: Narayana's transaction log; must survive restarts (recovery reads it), one per process. */
        private Path objectStoreDirectory;

        /** Required: 1..28 characters of [A-Za-z0-9._-], unique per process sharing a database or registry. */
        private String nodeIdentifier;

        /** The nodes whose orphaned branches this process may roll back; default: this node; "*" means all. */
        private List<String> recoveryNodes = new ArrayList<>();

        /** The JTA transaction timeout: whole seconds, 1 s .. 24 h. */
        private Duration defaultTimeout = Duration.ofSeconds(60);

        /** How often the recovery thread scans: whole seconds, 1 s .. 24 h. */
        private Duration periodicRecovery = Duration.ofSeconds(120);

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Path getObjectStoreDirectory() {
            return objectStoreDirectory;
        }

        public void setObjectStoreDirectory(Path objectStoreDirectory) {
            this.objectStoreDirectory = objectStoreDirectory;
        }

        public String getNodeIdentifier() {
            return nodeIdentifier;
        }

        public void setNodeIdentifier(String nodeIdentifier) {
            this.nodeIdentifier = nodeIdentifier;
        }

        public List<String> getRecoveryNodes() {
            return recoveryNodes;
        }

        public void setRecoveryNodes(List<String> recoveryNodes) {
            this.recoveryNodes = recoveryNodes;
        }

        public Duration getDefaultTimeout() {
            return defaultTimeout;
        }

        public void setDefaultTimeout(Duration defaultTimeout) {
            this.defaultTimeout = defaultTimeout;
        }

        public Duration getPeriodicRecovery() {
            return periodicRecovery;
        }

        public void setPeriodicRecovery(Duration periodicRecovery) {
            this.periodicRecovery = periodicRecovery;
        }
    }
}
