package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Repairs one site from another (docs/geo-replication.md, Operations): every entity the source
 * holds is merged into the target as a shipped write would be (the later stamp wins; what the
 * target holds that is later is kept), then the target's checkpoint for the source moves to where
 * the source's history stood when the repair began, so the source's shipper ships only what came
 * after. For a site that fell out of the source's retained history, one restored from an old copy,
 * or one seeded for the first time. A conflict it settles is kept as the store's cross-site policy
 * says, in the batch that settles it, as a shipped batch keeps it ({@link SiteTranslator#settle}):
 * a record, or a merge owed that the target's shipper-lease holder makes.
 */
final class SiteResync {

    /** Attempts per group of entities when the target changes under the repair. */
    private static final int ATTEMPTS = 20;
    /** The shortest conflict-resolution window a store may have (its option's lower limit). */
    static final Duration MIN_STALE_AGE = Duration.ofMinutes(1);

    private final SiteReplication.Site from;
    private final SiteReplication.Site to;
    private final EntityStates source;
    private final EntityStates target;
    /** The target's checkpoint for the source. */
    private final ShipmentLedger ledger;
    private final CrossSiteConflicts policy;
    private final LongSupplier wallMillis;
    /**
     * How long ago a stale entity was last written at least, in ms by this host's clock: the age asked
     * for plus the maximum clock skew (the stamp is the writing site's); {@link Long#MAX_VALUE}: none
     * is looked for.
     */
    private final long windowMillis;
    /**
     * The store's conflict-resolution window plus the maximum clock skew, in ms: a tombstone older
     * than that is past collection, and a later write meets it as shipping does.
     */
    private final long collectionMillis;
    private final boolean removeStale;
    private SiteDigests.View fromView;
    private SiteDigests.View toView;
    /** Entities read by id in one read batch. */
    private static final int READ_GROUP = 128;

    /**
     * @param window       how long ago an entity the source holds nothing of was last written at the
     *                     target, at least, to be stale: the conflict-resolution window or more; null:
     *                     none is looked for
     * @param conflictWindow the store's conflict-resolution window: with the skew, the age past which
     *                     a tombstone is met as collected, as shipping meets it (whatever {@code window})
     * @param maxClockSkew the store's maximum clock skew, added to {@code window}
     * @param removeStale  whether to remove the stale entities from the target (else they are only counted)
     */
    SiteResync(SiteReplication.Site from, SiteReplication.Site to, CrossSiteConflicts policy, LongSupplier wallMillis, Duration window,
               Duration conflictWindow, Duration maxClockSkew, boolean removeStale) {
        if (removeStale && window == null) {
            throw new IllegalArgumentException("stale entities cannot be removed without the age that makes them stale"
                    + " (the conflict-resolution window or more)");
        }
        if (window != null && window.compareTo(MIN_STALE_AGE) < 0) {
            throw new IllegalArgumentException("the age that makes an entity stale is " + window + "; it must be at least the"
                    + " conflict-resolution window, which is at least " + MIN_STALE_AGE);
        }
        this.from = from;
        this.to = to;
        this.policy = Objects.requireNonNull(policy, "policy");
        this.wallMillis = Objects.requireNonNull(wallMillis, "wallMillis");
        this.windowMillis = window == null ? Long.MAX_VALUE : window.plus(maxClockSkew).toMillis();
        this.collectionMillis = Objects.requireNonNull(conflictWindow, "conflictWindow").plus(maxClockSkew).toMillis();
        this.removeStale = removeStale;
        this.source = from.states();
        this.target = to.states();
        this.ledger = new ShipmentLedger(to.registry(), SiteReplication.ledgerKey(to.layout()), from.name());
        this.fromView = SiteDigests.read(from);
        this.toView = SiteDigests.read(to);
    }

    /**
     * Compares by range hashes ({@link SiteDigests}) computed as {@code fromView} and {@code toView}
     * say (by default the resync reads both sites itself).
     */
    SiteResync hashedBy(SiteDigests.View fromView, SiteDigests.View toView) {
        this.fromView = Objects.requireNonNull(fromView, "fromView");
        this.toView = Objects.requireNonNull(toView, "toView");
        return this;
    }

    SiteReplication.Resynced run() {
        // where the source's history stands before anything is read: all it holds up to here is merged below
        long checkpoint = SiteReplication.probe(from.registry(), from.layout(), "resync");
        int compared = 0;
        int written = 0;
        int stale = 0;
        int removed = 0;
        int differing = 0;
        int fetched = 0;
        int perBatch = Math.max(1, (to.registry().limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS)
                / LocalWrites.COMMANDS_PER_ENTITY);
        java.util.Set<String> types = new java.util.TreeSet<>(source.types(from.registry()));
        if (windowMillis != Long.MAX_VALUE) {
            types.addAll(target.types(to.registry()));
        }
        for (String type : types) {
            SiteDigests.Ranges there = fromView.ranges(type);
            compared += there.entities();
            java.util.Set<Integer> ranges = there.differing(toView.ranges(type));
            if (ranges.isEmpty()) {
                continue; // the same states of every id: nothing to bring, nothing stale
            }
            differing += ranges.size();
            Map<String, byte[]> fromHashes = fromView.entries(type, ranges);
            Map<String, byte[]> toHashes = toView.entries(type, ranges);
            List<String> bring = new ArrayList<>();
            fromHashes.forEach((id, h) -> {
                if (!java.util.Arrays.equals(h, toHashes.get(id))) {
                    bring.add(id);
                }
            });
            Map<String, SiteState> states = fromView.states(type, bring);
            // what a crash of the source could still lose (an ASYNC write) is not copied, as a shipper would not ship it
            from.registry().awaitDurable();
            fetched += states.size();
            List<String> ids = new ArrayList<>(states.keySet());
            for (int i = 0; i < ids.size(); i += perBatch) {
                written += merge(type, ids.subList(i, Math.min(ids.size(), i + perBatch)), states, Map.of());
            }
            if (windowMillis != Long.MAX_VALUE) {
                List<String> onlyHere = toHashes.keySet().stream().filter(id -> !fromHashes.containsKey(id)).toList();
                Map<String, SiteState> staleHere = stale(toView.states(type, onlyHere));
                stale += staleHere.size();
                if (removeStale) {
                    removed += removeStale(type, staleHere);
                }
            }
        }
        long at = ledger.checkpoint();
        // the head by a commit, which no server that lags behind answers (a read may: ZooKeeper's snapshot reads),
        // taken after the checkpoint was read: a checkpoint a shipper moved legitimately is never beyond it
        long head = at <= checkpoint ? 0 : SiteReplication.probe(from.registry(), from.layout(), "resync");
        if (at > head && head > 0) {
            // beyond the source's head: the source went back (restored from an older copy, or a new registry), and
            // its next batches reuse sequences the checkpoint passed; all it held up to the probe was merged above
            ledger.lowerTo(checkpoint, head);
        } else {
            // at least there: a shipper may have moved it further meanwhile
            ledger.apply(checkpoint, List.of());
        }
        java.util.Set<String> answered = new java.util.TreeSet<>();
        if (fromView.answered()) {
            answered.add(from.name());
        }
        if (toView.answered()) {
            answered.add(to.name());
        }
        return new SiteReplication.Resynced(checkpoint, compared, written, stale, removed, differing, fetched, answered);
    }

    /**
     * Deletes the {@code stale} entities of {@code type} at the target, each only if the target still
     * holds the state found stale; returns how many it deleted. Each delete is the target's own, made
     * just after the stale write (one logical tick later): it replaces that write and nothing newer,
     * so a write of the entity made anywhere since — its source re-creating it, a site's write still
     * on its way — wins over it where it arrives. (Stamped now, or counted as the source's, it would
     * beat or swallow such a write at the target alone, since the delete is not shipped.)
     */
    int removeStale(String type, Map<String, SiteState> stale) {
        int perBatch = Math.max(1, (to.registry().limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS)
                / LocalWrites.COMMANDS_PER_ENTITY);
        Map<String, SiteState> deletes = new TreeMap<>();
        stale.forEach((id, state) -> deletes.put(id, SiteState.after(state, null, to.name(), state.hlc() + 1)));
        List<String> ids = new ArrayList<>(deletes.keySet());
        int removed = 0;
        for (int i = 0; i < ids.size(); i += perBatch) {
            removed += merge(type, ids.subList(i, Math.min(ids.size(), i + perBatch)), deletes, stale);
        }
        return removed;
    }

    /**
     * Of {@code candidates}, entities the target holds and the source holds nothing of, those that
     * hold a value last written longer ago than the window: the source deleted each and has
     * collected its tombstone, or never received it — a write that reaches a site later than the
     * window is refused there (SiteTranslator). Values written before sites were configured (no
     * stamp) are never stale: they were never shipped.
     */
    private Map<String, SiteState> stale(Map<String, SiteState> candidates) {
        Map<String, SiteState> out = new TreeMap<>();
        long now = wallMillis.getAsLong();
        candidates.forEach((id, state) -> {
            if (!state.deleted() && !state.unstamped() && now - HybridClock.physical(state.hlc()) > windowMillis) {
                out.put(id, state);
            }
        });
        return out;
    }

    /** The states {@code site} holds of {@code ids} of {@code type}, read by id; an id it holds nothing of is left out. */
    static Map<String, SiteState> states(SiteReplication.Site site, EntityStates states, String type, java.util.Collection<String> ids) {
        Map<String, SiteState> out = new TreeMap<>();
        List<String> all = new ArrayList<>(ids);
        for (int i = 0; i < all.size(); i += READ_GROUP) {
            List<String> group = all.subList(i, Math.min(all.size(), i + READ_GROUP));
            List<ReadBatch.Read> reads = new ArrayList<>(group.size() * EntityStates.READS);
            group.forEach(id -> reads.addAll(states.reads(type, id)));
            ReadBatchResult r = site.registry().read(ReadBatch.of(reads));
            for (int k = 0; k < group.size(); k++) {
                SiteState s = states.current(type, group.get(k), r, k * EntityStates.READS).state();
                if (s != null) {
                    out.put(group.get(k), s);
                }
            }
        }
        return out;
    }

    /** Every entity state {@code site} holds of {@code type}: values (stamped or not) and tombstones. */
    static Map<String, SiteState> states(SiteReplication.Site site, EntityStates states, String type) {
        StorageLayout layout = site.layout();
        ReadBatchResult r = site.registry().read(ReadBatch.of(new ReadBatch.ValuesRead(layout.type(type)),
                new ReadBatch.ValuesRead(layout.versions(type)), new ReadBatch.ValuesRead(layout.tombstones(type))));
        Map<String, VersionedValue> envelopes = r.values(0).orElse(Map.of());
        Map<String, VersionedValue> versions = r.values(1).orElse(Map.of());
        Map<String, SiteState> out = new TreeMap<>();
        for (Map.Entry<String, VersionedValue> v : versions.entrySet()) {
            VersionedValue envelope = envelopes.get(v.getKey());
            if (envelope == null) {
                throw new IllegalStateException("site " + site.name() + " holds a version record of " + type + "/" + v.getKey()
                        + " without its value");
            }
            out.put(v.getKey(), states.opened(type, v.getKey(), v.getValue().value().asQword(), envelope.value().asBinary()));
        }
        for (Map.Entry<String, VersionedValue> t : r.values(2).orElse(Map.of()).entrySet()) {
            out.putIfAbsent(t.getKey(), states.tombstone(type, t.getKey(), t.getValue().value().asBinary()));
        }
        return out;
    }

    /**
     * Merges the states of {@code ids} into the target in one batch; returns how many it changed.
     *
     * @param only per id, the one target state the merge is for (a stale entity's delete: if the entity
     *             changed since it was found stale, it is not stale and is left); empty: any
     */
    private int merge(String type, List<String> ids, Map<String, SiteState> states, Map<String, SiteState> only) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            List<ReadBatch.Read> reads = new ArrayList<>();
            ids.forEach(id -> reads.addAll(target.reads(type, id)));
            ReadBatchResult read = to.registry().read(ReadBatch.of(reads));
            List<BatchCommand> commands = new ArrayList<>();
            int changed = 0;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                EntityStates.Current current = target.current(type, id, read, i * EntityStates.READS);
                if (only.containsKey(id) && !only.get(id).equals(current.state())) {
                    continue;
                }
                // as shipping does, with the store's window (the skew included here), not the stale age: a later write meets a
                // tombstone past collection as at a site that collected it
                SiteState held = SiteTranslator.pastCollection(current.state(), states.get(id), wallMillis.getAsLong(), collectionMillis, 0);
                CrossSiteMerge.Outcome merged = CrossSiteMerge.merge(held, states.get(id));
                if (merged.changed(current.state())) {
                    EntityStates.Written w = target.write(commands, type, id, merged.state(), current);
                    if (merged.conflict()) {
                        SiteTranslator.settle(commands, policy, target, to.registry(), type, id, merged, current, w, wallMillis.getAsLong());
                    }
                    changed++;
                }
            }
            if (commands.isEmpty()) {
                return 0;
            }
            WriteBatch.Builder b = WriteBatch.builder();
            commands.forEach(b::add);
            // room for the checkpoint's two commands the ledger adds
            if (b.build().encodedSize() + LocalWrites.SHIPPED_BATCH_BYTES > to.registry().limits().maxBatchBytes() && ids.size() > 1) {
                // large values: the group in halves, each its own batch (a resync need not be atomic)
                return merge(type, ids.subList(0, ids.size() / 2), states, only)
                        + merge(type, ids.subList(ids.size() / 2, ids.size()), states, only);
            }
            try {
                // with the target's checkpoint for the source as it is: the target's shipper takes the batch
                // for one that came from the source, and does not ship it on
                ledger.applyAsFromOrigin(commands);
                return changed;
            } catch (ConditionFailedException raced) {
                // a write at the target (its own, or shipped) landed between the read and the commit: read again
            }
        }
        throw new IllegalStateException("site " + to.name() + " kept changing " + type + " " + ids.get(0) + ".." + ids.get(ids.size() - 1)
                + " during the resync (" + ATTEMPTS + " attempts); run it again");
    }
}
