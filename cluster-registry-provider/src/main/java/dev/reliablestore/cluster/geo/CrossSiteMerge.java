package dev.reliablestore.cluster.geo;

/**
 * What a site stores when a write from another site arrives: a join — commutative, associative and
 * idempotent — so sites that receive the same writes converge to the same state in any order, with
 * duplicates and replays. The surviving value is the one with the greatest stamp (last writer
 * wins); the vector is the join of both, so the state remembers every write it has seen and a
 * later duplicate of the losing write is recognised as already included.
 *
 * <p>Why the stamp alone picks the winner, even when one write causally follows the other: a site
 * observes a write's timestamp before applying it and advances its clock past the state it
 * overwrites ({@link SiteState#write}), so a causally later write always has the greater stamp;
 * ordering by causality first would not be associative once three sites are involved. The vectors
 * only tell a conflict (concurrent writes) from an ordinary overwrite, for events and records.
 *
 * <p>Batches: every entity a batch writes at its origin carries the batch's one stamp, so between
 * two batches that share entities the same batch wins on all of them — never a mix of the two on
 * their common entities. Entities a batch shares with no conflicting write keep its value.
 */
final class CrossSiteMerge {

    private CrossSiteMerge() {
    }

    /** How an incoming write related to the local state. */
    enum Kind {
        /** There was no local state, or the incoming write includes it: an ordinary overwrite. */
        APPLIED,
        /** The local state already includes the incoming write (a duplicate, a replay, an older write): unchanged. */
        ALREADY_INCLUDED,
        /** Concurrent writes; the incoming one has the greater stamp and wins. */
        CONFLICT_INCOMING_WON,
        /** Concurrent writes; the local one has the greater stamp and stays. */
        CONFLICT_LOCAL_WON
    }

    /**
     * @param state   what the site stores now
     * @param kind    how the incoming write related to the local state
     * @param loser   for a conflict, the state that lost (its value is what a conflict record keeps); else null
     */
    record Outcome(SiteState state, Kind kind, SiteState loser) {
        boolean conflict() {
            return kind == Kind.CONFLICT_INCOMING_WON || kind == Kind.CONFLICT_LOCAL_WON;
        }

        boolean changed(SiteState before) {
            return !state.equals(before);
        }
    }

    /**
     * @param local    the site's state of the entity, {@code null} if it never existed there
     * @param incoming a write made at another site (its own state: value, stamp, vector)
     */
    static Outcome merge(SiteState local, SiteState incoming) {
        if (local == null) {
            return new Outcome(incoming, Kind.APPLIED, null);
        }
        VersionVector joined = local.vector().join(incoming.vector());
        SiteState winner = local.compareStamp(incoming) >= 0 ? local : incoming;
        SiteState merged = new SiteState(winner.value(), winner.hlc(), winner.origin(), joined);
        return switch (incoming.vector().compare(local.vector())) {
            case BEFORE, EQUAL -> new Outcome(merged, Kind.ALREADY_INCLUDED, null);
            case AFTER -> new Outcome(merged, Kind.APPLIED, null);
            case CONCURRENT -> winner == incoming
                    ? (overwrites(incoming, local) ? new Outcome(merged, Kind.APPLIED, null) : new Outcome(merged, Kind.CONFLICT_INCOMING_WON, local))
                    : new Outcome(merged, Kind.CONFLICT_LOCAL_WON, incoming);
        };
    }

    /**
     * Whether {@code incoming} was written on top of the write whose value {@code local} holds (its
     * vector counts that write's stamp), although {@code local}'s vector also counts writes it has
     * not seen: those lost to that value already, where they met it, and lose to {@code incoming}
     * too. The value {@code local} holds is then overwritten by its writer's own successor, not lost.
     * Only the kind and the loser depend on it, never the state, so the sites converge as before.
     */
    private static boolean overwrites(SiteState incoming, SiteState local) {
        // the origin's own entry, not the stamp: vectors stored by earlier builds count writes by one
        return !local.unstamped() && incoming.vector().get(local.origin()) >= local.vector().get(local.origin());
    }
}
