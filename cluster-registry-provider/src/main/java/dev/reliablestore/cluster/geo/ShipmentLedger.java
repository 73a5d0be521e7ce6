package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How far a target site has applied one origin site's feed, and the only way a shipped batch is
 * applied there: in the same registry batch as the advance of that checkpoint, on the condition
 * that the checkpoint is still the one last seen. So a batch is applied at most once however often
 * it is delivered — a replay after the shipper restarted, a duplicate, two shippers of one origin
 * while an election settles — and no crash can leave a batch applied but not recorded, or
 * recorded but not applied (docs/geo-replication.md, "The shipper").
 *
 * <p>The checkpoint is the value named after the origin site under the ledger key: a QWORD holding
 * the origin's sequence of the last batch applied (absent: none yet). Origin sequences only grow, so
 * a delivery at or below the checkpoint is one already applied. A commit whose outcome is unknown
 * is simply applied again: if the first attempt landed, the checkpoint condition fails and the
 * ledger reports the batch as already applied.
 *
 * <p>Not thread-safe: one shipper thread per origin and target.
 */
final class ShipmentLedger {

    /** What {@link #apply} did. */
    enum Outcome {
        /** The batch's commands and the checkpoint's advance were committed together. */
        APPLIED,
        /** The checkpoint was already at or past the batch: nothing was committed. */
        ALREADY_APPLIED,
        /**
         * For a group of batches: the checkpoint had moved into the group (another delivery applied
         * some of it); nothing was committed — translate what is past {@link #checkpoint()} again.
         */
        CHECKPOINT_MOVED,
        /**
         * The checkpoint went back below one this ledger had read or written (the target was restored
         * from an older copy): nothing was committed — the origin's batches after {@link #checkpoint()}
         * must be shipped again, from there.
         */
        CHECKPOINT_BEHIND
    }

    /** The site names of docs/geo-replication.md; they are value names of the ledger key as they are. */
    private static final Pattern SITE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final ClusterRegistry target;
    private final RegistryPath ledgerKey;
    private final String origin;
    /** The checkpoint as last read or written; -1 before the first read (or after a failed commit). */
    private long known = -1;
    /** The checkpoint value's revision at the target, when {@link #known} > 0. */
    private long knownRevision;
    /**
     * The highest checkpoint read or written since the caller last read it ({@link #checkpoint()}):
     * origin sequences only grow, so a checkpoint found below it was rolled back at the target.
     */
    private long floor;

    ShipmentLedger(ClusterRegistry target, RegistryPath ledgerKey, String origin) {
        this.target = Objects.requireNonNull(target, "target");
        this.ledgerKey = Objects.requireNonNull(ledgerKey, "ledgerKey");
        this.origin = requireSiteName(origin);
    }

    static String requireSiteName(String site) {
        Objects.requireNonNull(site, "site");
        if (!SITE_NAME.matcher(site).matches()) {
            throw new IllegalArgumentException("site name '" + site + "' must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'");
        }
        return site;
    }

    /** The origin sequence of the last batch applied here, read from the target ({@code 0}: none). */
    long checkpoint() {
        floor = read();
        return known;
    }

    /**
     * The checkpoint read again while shipping goes on (another delivery moved it), or -1 when it is
     * below the highest one read or written since {@link #checkpoint()}: the target was restored
     * meanwhile, and shipping on from the lower point would pass over the batches between the two, so
     * the caller reads its feed again from the target (as for {@link Outcome#CHECKPOINT_BEHIND}).
     */
    long checkpointUnlessBehind() {
        long highest = floor;
        long now = read();
        if (now < highest) {
            return -1;
        }
        floor = now;
        return now;
    }

    private long read() {
        Optional<VersionedValue> v = target.getValue(ledgerKey, origin);
        known = v.map(x -> x.value().asQword()).orElse(0L);
        knownRevision = v.map(VersionedValue::revision).orElse(0L);
        return known;
    }

    /**
     * Applies the origin's batch {@code originSequence} as {@code commands} (already made fit for
     * this site), unless the checkpoint shows it applied. Conditions among the commands are the
     * caller's: when one fails, nothing is applied and the exception names its index in
     * {@code commands}.
     *
     * @throws IllegalArgumentException    {@code originSequence} is not positive
     * @throws ConditionFailedException    a condition among {@code commands} was false
     * @throws dev.reliablestore.registry.RegistryUnavailableException the target cannot commit now
     *                                      (apply the same batch again later: it lands once)
     */
    Outcome apply(long originSequence, List<BatchCommand> commands) {
        return apply(originSequence, originSequence, commands);
    }

    /**
     * Applies the origin's consecutive batches {@code first..last} (as shipped: the origin's batches
     * between them that are not shipped count as part of the group) as one registry batch.
     *
     * @return {@link Outcome#CHECKPOINT_MOVED} when the checkpoint lies inside the group: the
     *         commands were made for batches of which some are applied already, so nothing is
     *         committed and the caller translates the rest again
     */
    Outcome apply(long first, long last, List<BatchCommand> commands) {
        if (first <= 0 || last < first) {
            throw new IllegalArgumentException("origin sequences " + first + ".." + last + " of site " + origin
                    + " must be positive and in order");
        }
        long originSequence = last;
        Objects.requireNonNull(commands, "commands");
        while (true) {
            long at = known >= 0 ? known : read();
            if (at < floor) {
                // committing on top would skip the batches between the two for good
                return Outcome.CHECKPOINT_BEHIND;
            }
            floor = at;
            if (originSequence <= at) {
                return Outcome.ALREADY_APPLIED;
            }
            if (first <= at) {
                return Outcome.CHECKPOINT_MOVED;
            }
            WriteBatch.Builder b = WriteBatch.builder();
            checkpointUnchanged(b);
            commands.forEach(b::add);
            b.setValue(ledgerKey, origin, RegistryValue.qword(originSequence));
            try {
                knownRevision = target.commit(b.build()).sequence();
                known = originSequence;
                floor = originSequence;
                return Outcome.APPLIED;
            } catch (ConditionFailedException e) {
                if (e.failedCommandIndex() == 0) {
                    // another delivery (ours, landed despite an unknown outcome, or another shipper's)
                    // moved the checkpoint: read it and decide again
                    known = -1;
                    continue;
                }
                throw new ConditionFailedException(e.failedCommandIndex() - 1, e.failedCommand());
            } catch (RuntimeException e) {
                known = -1; // the outcome may be unknown: read the checkpoint before the next attempt
                throw e;
            }
        }
    }

    /**
     * Sets the checkpoint to {@code sequence} while it is beyond {@code onlyAbove} (the origin's head,
     * taken by a commit) and {@code sequence}. Only for an origin that went back
     * (restored from an older copy, or a new registry), whose next batches reuse sequences the
     * checkpoint already passed, and only once everything of the origin up to {@code sequence} was
     * brought here another way (a resync): else those batches would never be shipped.
     */
    void lowerTo(long sequence, long onlyAbove) {
        while (true) {
            long at = read();
            if (at <= sequence || at <= onlyAbove) {
                return;
            }
            WriteBatch.Builder b = WriteBatch.builder();
            checkpointUnchanged(b);
            b.setValue(ledgerKey, origin, RegistryValue.qword(sequence));
            try {
                knownRevision = target.commit(b.build()).sequence();
                known = sequence;
                floor = sequence;
                return;
            } catch (ConditionFailedException moved) {
                // another writer of the checkpoint: read it and decide again
            }
        }
    }

    /**
     * The condition that the checkpoint is still the one last read: absent (revision 0, whatever
     * {@link #known} says: a checkpoint of 0 may have been written) or at its revision — a revision
     * rather than the bytes, which the ZooKeeper backend checks without a read.
     */
    private void checkpointUnchanged(WriteBatch.Builder b) {
        if (knownRevision == 0) {
            b.requireValueAbsent(ledgerKey, origin);
        } else {
            b.requireRevision(ledgerKey, origin, knownRevision);
        }
    }

    /**
     * Commits {@code commands} together with the checkpoint rewritten as it is: the batch then reads,
     * like any batch shipped from the origin, as one that came from there ({@link #shippedFrom}), so
     * the target's shipper never ships it on. For writes of the origin's state made at the target by
     * another way than its shipper (a resync). Conditions among the commands are the caller's.
     *
     * @throws ConditionFailedException a condition among {@code commands} was false (its index in them)
     */
    void applyAsFromOrigin(List<BatchCommand> commands) {
        while (true) {
            long at = known >= 0 ? known : checkpoint();
            WriteBatch.Builder b = WriteBatch.builder();
            checkpointUnchanged(b);
            commands.forEach(b::add);
            b.setValue(ledgerKey, origin, RegistryValue.qword(at));
            try {
                knownRevision = target.commit(b.build()).sequence();
                return;
            } catch (ConditionFailedException e) {
                known = -1;
                if (e.failedCommandIndex() != 0) {
                    throw new ConditionFailedException(e.failedCommandIndex() - 1, e.failedCommand());
                }
                // a shipper moved the checkpoint meanwhile: read it and write it as it is now
            } catch (RuntimeException e) {
                known = -1;
                throw e;
            }
        }
    }

    /**
     * The origin site whose shipment {@code batch} applied, if it advanced a checkpoint under
     * {@code ledgerKey}: a shipper never ships such a batch back to where it came from.
     */
    static Optional<String> shippedFrom(ChangeBatch batch, RegistryPath ledgerKey) {
        for (Change c : batch.changes()) {
            if (c instanceof Change.ValueSet s && s.key().equals(ledgerKey)) {
                return Optional.of(s.name());
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "ShipmentLedger[" + origin + " at " + ledgerKey + (known >= 0 ? ", checkpoint " + known : "") + "]";
    }
}
