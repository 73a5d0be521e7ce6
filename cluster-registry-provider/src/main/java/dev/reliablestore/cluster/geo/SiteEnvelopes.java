package dev.reliablestore.cluster.geo;

/**
 * A site's stored values as the cross-site shipper sees them: the provider's envelope codec of one
 * site (compression, encryption, the value's place and the site it is bound to). The shipper opens a
 * value at the site it was written at and seals it anew for the site it lands at, so a value's
 * authentication never vouches for bytes moved between sites (docs/geo-replication.md, "Encryption
 * and place").
 *
 * <p>The provider's seam to the geo package, not an API for applications.
 */
public interface SiteEnvelopes {

    /**
     * A decoded value.
     *
     * @param json  the entity's JSON
     * @param stamp its cross-site stamp, {@code null} for a value written before sites were configured
     */
    record Opened(byte[] json, byte[] stamp) {
    }

    /**
     * Decodes and authenticates a value stored at this site.
     *
     * @param version the entity's version from its version record: the value must carry it
     * @throws dev.reliablestore.api.DataIntegrityException the value is damaged, forged, bound to
     *                                                       another place or site, or of another version
     */
    Opened open(String type, String id, long version, byte[] envelope);

    /**
     * A stored form and what went into it.
     *
     * @param envelope        the stored bytes
     * @param plainBytes      the JSON's size
     * @param compressedBytes the JSON's size after compression (equal when it was not compressed):
     *                        a store counts both in its compression metrics
     */
    record Sealed(byte[] envelope, int plainBytes, int compressedBytes) {
    }

    /**
     * The stored form of {@code json} at this site, at {@code version}, carrying {@code stamp} and
     * bound to this site.
     */
    Sealed seal(String type, String id, long version, byte[] json, byte[] stamp);

    /**
     * Seals bytes this site keeps about an entity that are not its value (a conflict record) at a
     * place no value can have — type {@code <type>/<kind>}, which no entity type can be, and the
     * record's name — bound to this site and carrying {@code stamp}; never with a compression
     * dictionary (dictionaries are trained per entity type).
     */
    byte[] sealRecord(String type, String kind, String name, byte[] payload, byte[] stamp);

    /**
     * Opens what {@link #sealRecord} sealed at this place.
     *
     * @throws dev.reliablestore.api.DataIntegrityException damaged, forged, or moved from another place or site
     */
    Opened openRecord(String type, String kind, String name, byte[] sealed);
}
