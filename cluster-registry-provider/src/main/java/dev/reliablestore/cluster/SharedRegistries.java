package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The registries of a multi-site store's sites, one per URI and options in this process, shared by
 * every factory that needs it and closed when the last lets go. Needed because a site's registry is
 * opened both by its own factory and, as a shipping target, by the factories of the other sites —
 * and an embedded registry can be opened once only (its directory lock), so sites that are embedded
 * registries of one process could not otherwise ship to each other. A URI asked for with other
 * options is opened once more (a ZooKeeper ensemble takes any number of clients; an embedded
 * directory refuses, and the error says why).
 */
final class SharedRegistries {

    private static final Map<Key, Entry> OPEN = new HashMap<>();

    private record Key(String uri, Map<String, String> options) {
    }

    private static final class Entry {
        final ClusterRegistry registry;
        int holders;

        Entry(ClusterRegistry registry) {
            this.registry = registry;
        }
    }

    private SharedRegistries() {
    }

    /** A hold on a shared registry; {@link #close()} lets go of it once. */
    static final class Hold implements AutoCloseable {
        private final Key key;
        private final ClusterRegistry registry;
        private boolean released;

        private Hold(Key key, ClusterRegistry registry) {
            this.key = key;
            this.registry = registry;
        }

        ClusterRegistry registry() {
            return registry;
        }

        @Override
        public void close() {
            ClusterRegistry last = null;
            synchronized (OPEN) {
                if (released) {
                    return;
                }
                released = true;
                Entry e = OPEN.get(key);
                if (e != null && e.registry == registry && --e.holders == 0) {
                    OPEN.remove(key);
                    last = registry;
                }
            }
            if (last != null) {
                last.close();
            }
        }
    }

    /**
     * Holds the registry of {@code uri} opened with {@code options}, opening it unless this process
     * has it open with those options already.
     *
     * @throws ConfigurationException it is open here with other options and cannot be opened twice
     */
    static Hold hold(String uri, Map<String, String> options) {
        Key key = new Key(Objects.requireNonNull(uri, "uri"), Map.copyOf(options));
        // opening under the lock keeps two factories from opening one embedded directory at once;
        // a ZooKeeper site that cannot be reached holds others up to its connection timeout
        synchronized (OPEN) {
            Entry e = OPEN.get(key);
            if (e == null) {
                try {
                    e = new Entry(ClusterRegistries.open(uri, key.options()));
                } catch (RuntimeException failed) {
                    Key other = OPEN.keySet().stream().filter(k -> k.uri().equals(uri)).findFirst().orElse(null);
                    if (other == null) {
                        throw failed;
                    }
                    throw new ConfigurationException("registry " + uri + " is open in this process already, as a site of a store,"
                            + " with the options " + other.options().keySet() + ", and cannot be opened again with "
                            + key.options().keySet() + " (" + failed.getMessage() + "); give every factory of this process the same"
                            + " options for it", failed);
                }
                OPEN.put(key, e);
            }
            e.holders++;
            return new Hold(key, e.registry);
        }
    }
}
