package dev.reliablestore.cluster;

import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.geo.SiteEnvelopes;

/** The benchmarks' access to the provider's package-private envelope codec (same package, another jar). */
public final class SiteCodecs {

    private SiteCodecs() {
    }

    /** The codec of a store under {@code root} at {@code site}: zstd, and AES-GCM with {@code keys} unless null. */
    public static SiteEnvelopes codec(String root, KeyRing keys, String site) {
        return new EnvelopeCodec(root, true, null, keys, site);
    }
}
