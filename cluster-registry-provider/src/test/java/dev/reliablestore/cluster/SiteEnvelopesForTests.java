package dev.reliablestore.cluster;

import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.geo.SiteEnvelopes;

/** The provider's envelope codec for the geo package's tests, which cannot reach it themselves. */
public final class SiteEnvelopesForTests {

    private SiteEnvelopesForTests() {
    }

    /** A key ring of one random AES-256 key; the sites of one store share it. */
    public static KeyRing ring() {
        return CodecTestSupport.ring("k1", "k1");
    }

    /** The codec of a store under {@code root} at {@code site}: zstd, and AES-GCM with {@code keys} unless null. */
    public static SiteEnvelopes codec(String root, KeyRing keys, String site) {
        return new EnvelopeCodec(root, true, null, keys, site);
    }
}
