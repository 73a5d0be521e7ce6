package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

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

    /** A registry being opened or open, and how many hold it. */
    private static final class Entry {
        final CompletableFuture<ClusterRegistry> registry = new CompletableFuture<>();
        int holders;
    }

    private SharedRegistries() {
    }

    /** A hold on a shared registry; {@link #close()} lets go of it once. */
    static final class Hold implements AutoCloseable {
        private final Key key;
        private final Entry entry;
        private final ClusterRegistry registry;
        private boolean released;

        private Hold(Key key, Entry entry, ClusterRegistry registry) {
            this.key = key;
            this.entry = entry;
            this.registry = registry;
        }

        ClusterRegistry registry() {
            return registry;
        }

        @Override
        public void close() {
            synchronized (OPEN) {
                if (released) {
                    return;
                }
                released = true;
            }
            release(key, entry);
        }
    }

    /**
     * Holds the registry of {@code uri} opened with {@code options}, opening it unless this process
     * has it open with those options already. Only the callers of one URI and options wait for each
     * other while it opens (a ZooKeeper site that cannot be reached holds them up to its connection
     * timeout); others are not held up. A caller that waited for an opening another caller had
     * started, and that failed, tries once more itself: the cause (another registry holding an
     * embedded directory until a moment ago) may be gone by now.
     *
     * @throws ConfigurationException it is open here with other options and cannot be opened twice
     */
    static Hold hold(String uri, Map<String, String> options) {
        try {
            return holdOnce(uri, options, false);
        } catch (Joined failed) {
            // the opening this caller waited for was started by another caller, before this one came:
            // what it found (a directory another registry held until a moment ago) may be over now
            return holdOnce(uri, options, true);
        }
    }

    /** The failure of an opening that another caller started. */
    private static final class Joined extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Joined(RuntimeException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    private static Hold holdOnce(String uri, Map<String, String> options, boolean last) {
        Key key = new Key(Objects.requireNonNull(uri, "uri"), Map.copyOf(options));
        Entry entry;
        boolean opener;
        synchronized (OPEN) {
            entry = OPEN.get(key);
            opener = entry == null;
            if (opener) {
                entry = new Entry();
                OPEN.put(key, entry);
            }
            entry.holders++;
        }
        if (opener) {
            try {
                entry.registry.complete(ClusterRegistries.open(uri, key.options()));
            } catch (RuntimeException failed) {
                // forgotten before the waiting callers learn of it, so that one trying again opens anew
                // instead of finding this failed opening while its other holders have not let go yet
                synchronized (OPEN) {
                    if (OPEN.get(key) == entry) {
                        OPEN.remove(key);
                    }
                }
                entry.registry.completeExceptionally(failed);
            }
        }
        try {
            return new Hold(key, entry, entry.registry.get());
        } catch (ExecutionException e) {
            release(key, entry);
            RuntimeException failed = explained(key, (RuntimeException) e.getCause());
            throw opener || last ? failed : new Joined(failed);
        } catch (InterruptedException e) {
            release(key, entry);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while registry " + ClusterRegistries.redact(uri) + " was opened", e);
        }
    }

    /** Lets go of one hold; the last closes the registry (or forgets a failed opening). */
    private static void release(Key key, Entry entry) {
        boolean last;
        synchronized (OPEN) {
            last = --entry.holders == 0;
            if (last && OPEN.get(key) == entry) {
                OPEN.remove(key);
            }
        }
        if (last) {
            ClusterRegistry registry = entry.registry.isCompletedExceptionally() ? null : entry.registry.getNow(null);
            if (registry != null) {
                registry.close();
            }
        }
    }

    /** A failed opening, said plainly when the URI is open here with other options. */
    private static RuntimeException explained(Key key, RuntimeException failed) {
        Key other;
        synchronized (OPEN) {
            other = OPEN.keySet().stream().filter(k -> k.uri().equals(key.uri()) && !k.equals(key)).findFirst().orElse(null);
        }
        if (other == null) {
            return failed;
        }
        return new ConfigurationException("registry " + ClusterRegistries.redact(key.uri()) + " is open in this process already, as a site of a store, with the"
                + " options " + other.options().keySet() + ", and cannot be opened again with " + key.options().keySet() + " ("
                + failed.getMessage() + "); give every factory of this process the same options for it", failed);
    }
}
