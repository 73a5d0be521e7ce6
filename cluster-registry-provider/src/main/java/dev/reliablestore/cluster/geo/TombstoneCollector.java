package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.VersionedValue;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
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
 */
final class TombstoneCollector {

    private final SiteReplication.Site site;
    private final EntityStates states;
    private final long keepMillis;
    private final LongSupplier wallMillis;

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
     * read (a newer delete of the entity, or a save, meanwhile keeps what it wrote). Returns how many
     * it removed.
     */
    int collect() {
        ClusterRegistry registry = site.registry();
        long now = wallMillis.getAsLong();
        ConditionalRemovals removals = new ConditionalRemovals(registry);
        for (String type : states.types(registry)) {
            RegistryPath key = site.layout().tombstones(type);
            Map<String, VersionedValue> tombstones;
            try {
                tombstones = registry.values(key);
            } catch (NoSuchKeyException none) {
                continue;
            }
            for (Map.Entry<String, VersionedValue> t : tombstones.entrySet()) {
                SiteState state = states.tombstone(type, t.getKey(), t.getValue().value().asBinary());
                if (collectible(state.hlc(), now, keepMillis)) {
                    removals.remove(key, t.getKey(), t.getValue().revision());
                }
            }
        }
        return removals.finish();
    }
}
