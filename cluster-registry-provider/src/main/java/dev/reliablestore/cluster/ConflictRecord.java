package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreEvent;

import java.time.Instant;
import java.util.Objects;

/**
 * A cross-site conflict a site settled, kept durably at that site with the write that lost
 * ({@code crossSiteConflicts = ConflictRecord}, docs/geo-replication.md, Conflicts): the same winner
 * as last-writer-wins, and the loser is not gone. Written in the same registry batch that settled
 * the conflict, so a site holds a record for every conflict it settled; removed once
 * {@code conflictResolutionWindow} has passed since it was settled. Read them with
 * {@link ClusterPersistenceStore#conflictRecords()}.
 *
 * @param type          the entity type
 * @param id            the entity id
 * @param site          the site where it was settled (the site whose records these are)
 * @param settled       when it was settled (the settling shipper's clock)
 * @param kept          the write the site kept
 * @param lost          the write that lost, with its value as the entity codec encoded it (JSON
 *                      with the default codec; empty for a delete). {@code toString()} shows sizes only.
 * @param storedVersion the entity's version at the site before (0: deleted or absent there)
 * @param resultVersion its version at the site after (0: deleted)
 */
public record ConflictRecord(String type, String id, String site, Instant settled, Kept kept, StoreEvent.SiteWrite lost,
                             long storedVersion, long resultVersion) {

    /**
     * The write that won: the record keeps its stamp, not its value (the entity holds the value,
     * or a later one).
     *
     * @param site    the site where it was made
     * @param stamped its stamp's physical time
     * @param deleted whether it was a delete
     */
    public record Kept(String site, Instant stamped, boolean deleted) {
        public Kept {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(stamped, "stamped");
        }
    }

    public ConflictRecord {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(settled, "settled");
        Objects.requireNonNull(kept, "kept");
        Objects.requireNonNull(lost, "lost");
    }
}
