package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.geo.SiteEnvelopes;
import dev.reliablestore.registry.ClusterRegistry;

import java.time.Duration;
import java.util.function.LongSupplier;

/** Stores at a site for the geo package's tests, on a clock the test drives and without shippers (the tests run their own). */
public final class StoresAtSitesForTests {

    private StoresAtSitesForTests() {
    }

    /** A factory of stores at {@code site} over {@code registry}, which the caller keeps owning. */
    public static StoreFactory open(ClusterPersistenceConfiguration config, ClusterRegistry registry, String site, LongSupplier wallMillis,
                                    Duration maxClockSkew) {
        return ClusterStoreFactory.onRegistryAtSite(config, registry, new ClusterStoreFactory.Site(site, wallMillis, maxClockSkew));
    }

    /** The envelope codec of the stores {@code factory} opens (a factory from {@link #open}). */
    public static SiteEnvelopes envelopes(StoreFactory factory) {
        return ((ClusterStoreFactory) factory).envelopeCodec();
    }
}
