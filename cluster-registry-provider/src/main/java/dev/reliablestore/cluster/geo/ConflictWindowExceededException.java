package dev.reliablestore.cluster.geo;

/**
 * A write reached a site later than the conflict-resolution window after it was made, and the site
 * holds nothing of its entity: a tombstone that would have decided it may have been collected
 * there already, so applying it could bring back an entity the other sites keep deleted. The
 * shipper stops with {@code site-resync-<target>}: the target has not caught up within the window
 * and must be repaired from another site (docs/geo-replication.md, Deletes and the window).
 */
final class ConflictWindowExceededException extends RuntimeException {

    ConflictWindowExceededException(String message) {
        super(message);
    }
}
