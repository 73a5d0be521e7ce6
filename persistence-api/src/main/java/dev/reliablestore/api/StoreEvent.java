package dev.reliablestore.api;

import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/** Something a store observed about its cluster or its data, delivered to {@link StoreEventListener}s. */
public sealed interface StoreEvent
        permits StoreEvent.HealthCheckFailed, StoreEvent.HealthRestored, StoreEvent.NodeFailover, StoreEvent.ConflictResolved {

    /** When the store observed it. */
    Instant time();

    /** A periodic health check failed; {@code reason} says which check and why. */
    record HealthCheckFailed(Instant time, String reason) implements StoreEvent {
    }

    /** Health checks pass again after a failure. */
    record HealthRestored(Instant time) implements StoreEvent {
    }

    /**
     * The primary (owner) node changed; {@code oldNode} is null when there was none, {@code newNode}
     * while there is none. {@code requested} is true when an administrator asked for the move (a
     * failover, or a drain of the primary), false when the cluster made it by itself (a node failed).
     */
    record NodeFailover(Instant time, String oldNode, String newNode, boolean requested) implements StoreEvent {

        /** A move the cluster made by itself. */
        public NodeFailover(Instant time, String oldNode, String newNode) {
            this(time, oldNode, newNode, false);
        }
    }

    /**
     * A write met a newer stored version and the configured conflict resolution settled it; or, in a
     * multi-site store, two writes made at different sites without seeing each other met at a site
     * and the cross-site policy settled them there ({@link #acrossSites()}).
     *
     * @param strategy        the strategy that settled it, e.g. {@code LastWriteWins}
     * @param storedVersion   the version found in the store (0: the entity was deleted there)
     * @param resultVersion   the version written in the end (0: the entity is deleted)
     * @param acrossSites     the two writes, for a conflict between sites; empty for one within a site
     */
    record ConflictResolved(Instant time, String typeName, String id, String strategy, long storedVersion,
                            long resultVersion, Optional<SiteConflict> acrossSites) implements StoreEvent {

        public ConflictResolved {
            Objects.requireNonNull(acrossSites, "acrossSites");
        }

        /** A conflict within a site. */
        public ConflictResolved(Instant time, String typeName, String id, String strategy, long storedVersion, long resultVersion) {
            this(time, typeName, id, strategy, storedVersion, resultVersion, Optional.empty());
        }
    }

    /**
     * Two concurrent writes of one entity made at different sites (docs/geo-replication.md).
     *
     * @param site the site where the conflict was settled. The shipper that delivered one of the
     *             writes there settles it, so the event is raised by the factory of the site that
     *             shipped it (each site where the conflict is met raises its own)
     * @param kept the write the site holds now
     * @param lost the write that lost
     */
    record SiteConflict(String site, SiteWrite kept, SiteWrite lost) {
        public SiteConflict {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(kept, "kept");
            Objects.requireNonNull(lost, "lost");
        }
    }

    /**
     * One write of a cross-site conflict.
     *
     * @param site    the site where it was made
     * @param stamped its stamp's physical time (the writer site's clock, milliseconds)
     * @param value   the value as the entity codec encoded it (JSON with the default codec); empty
     *                for a delete. Values may be confidential: {@link #toString()} shows sizes only.
     */
    record SiteWrite(String site, Instant stamped, Optional<byte[]> value) {
        public SiteWrite {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(stamped, "stamped");
            value = value.map(byte[]::clone);
        }

        /** A copy of the encoded value, empty for a delete. */
        @Override
        public Optional<byte[]> value() {
            return value.map(byte[]::clone);
        }

        /** Whether this write was a delete. */
        public boolean deleted() {
            return value.isEmpty();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SiteWrite w && site.equals(w.site) && stamped.equals(w.stamped)
                    && value.isPresent() == w.value.isPresent() && (value.isEmpty() || Arrays.equals(value.get(), w.value.get()));
        }

        @Override
        public int hashCode() {
            return Objects.hash(site, stamped, value.map(Arrays::hashCode).orElse(0));
        }

        @Override
        public String toString() {
            return "SiteWrite[site=" + site + ", stamped=" + stamped + ", " + value.map(v -> v.length + " bytes").orElse("deleted") + "]";
        }
    }
}
