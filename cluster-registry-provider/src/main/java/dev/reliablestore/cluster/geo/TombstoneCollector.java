package dev.reliablestore.cluster.geo;

import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.VersionedValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Removes a site's tombstones once the conflict-resolution window has passed over them
 * (docs/geo-replication.md, Deletes and the window). A tombstone is kept while a concurrent write
 * of its entity could still arrive: a write reaches a site within the window after it was made, or
 * the shipper refuses it ({@link ConflictWindowExceededException}). So a tombstone whose stamp is
 * older than the window — plus the clock skew the sites allow, since the stamp may come from a
 * clock that ran ahead — can decide nothing any more: every write still to come is either later
 * than it (and wins anyway) or refused. Each site collects its own, by the same rule, so the sites
 * stay alike.
 *
 * <p>A tombstone that cannot be read (damaged, sealed under a retired key) is kept — its age is
 * its stamp, which cannot be read either — and the pass goes on with the others, as
 * {@link ConflictRecords} does with its records; it is logged the first time a pass meets it.
 */
final class TombstoneCollector {

    private static final Logger LOG = LoggerFactory.getLogger(TombstoneCollector.class);

    private final SiteReplication.Site site;
    private final EntityStates states;
    private final long keepMillis;
    private final LongSupplier wallMillis;
    /** The unreadable tombstones the last pass met ({@code type/id@revision}): logged once, not at every pass (one an hour at most). */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    /**
     * @param window  how long tombstones are kept
     * @param maxSkew how far another site's clock may run ahead of this one's
     */
    TombstoneCollector(SiteReplication.Site site, Duration window, Duration maxSkew, LongSupplier wallMillis) {
        this.site = Objects.requireNonNull(site, "site");
        this.states = site.states();
        this.keepMillis = window.plus(maxSkew).toMillis();
        this.wallMillis = Objects.requireNonNull(wallMillis, "wallMillis");
    }

    /** Whether a tombstone stamped {@code hlc} is collected at {@code wallMillis}: older than {@code keepMillis}, the window plus the skew. */
    static boolean collectible(long hlc, long wallMillis, long keepMillis) {
        return HybridClock.physical(hlc) < wallMillis - keepMillis;
    }

    /**
     * Removes every tombstone older than the window, each on the condition that it is still the one
     * read (a newer delete of the entity, or a save, meanwhile keeps what it wrote), and keeps every
     * one that cannot be read. Returns how many it removed.
     */
    int collect() {
        ClusterRegistry registry = site.registry();
        long now = wallMillis.getAsLong();
        ConditionalRemovals removals = new ConditionalRemovals(registry);
        Set<String> unreadableNow = new HashSet<>();
        for (String type : states.types(registry)) {
            RegistryPath key = site.layout().tombstones(type);
            Map<String, VersionedValue> tombstones;
            try {
                tombstones = registry.values(key);
            } catch (NoSuchKeyException none) {
                continue;
            }
            for (Map.Entry<String, VersionedValue> t : tombstones.entrySet()) {
                SiteState state;
                try {
                    state = states.tombstone(type, t.getKey(), t.getValue().value().asBinary());
                } catch (DataIntegrityException | IllegalStateException | RegistryArgumentException unreadable) {
                    kept(type + "/" + t.getKey(), t.getValue().revision(), unreadable, unreadableNow);
                    continue;
                }
                if (collectible(state.hlc(), now, keepMillis)) {
                    removals.remove(key, t.getKey(), t.getValue().revision());
                }
            }
        }
        reported.retainAll(unreadableNow); // one gone (or written anew) is forgotten, and reported again if it turns unreadable
        return removals.finish();
    }

    private void kept(String tombstone, long revision, RuntimeException unreadable, Set<String> unreadableNow) {
        String seen = tombstone + "@" + revision;
        unreadableNow.add(seen);
        if (reported.add(seen)) {
            LOG.warn("site {}: kept the tombstone of {}, which cannot be read (it is never collected): {}", site.name(), tombstone,
                    unreadable.getMessage());
        } else {
            LOG.debug("site {}: kept the tombstone of {}, which cannot be read: {}", site.name(), tombstone, unreadable.getMessage());
        }
    }
}
