package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.CrossSiteConflicts;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Turns a batch of entity writes made at the origin site into the commands that merge them into the
 * target site's entities (docs/geo-replication.md, "Conflicts"). For each entity the batch wrote
 * (an envelope with its version record, or a tombstone) it opens the value with the origin's
 * envelopes, reads the target's state of the entity, and merges the two ({@link CrossSiteMerge}):
 * where the target's state changes, the value is sealed anew for the target at the target's next
 * version, with the merged stamp, on the conditions that the target's version record and tombstone
 * are still the ones read and no prepared transaction there holds the entity. The whole batch is one
 * registry batch at the target: all of it lands or none. Its conflict records and merge markers
 * travel in it too, unless a lone batch cannot carry them within the target's limits: then they are
 * written ahead of it ({@link #writeAhead}).
 *
 * <p>Only entities travel: type descriptors, dictionaries, configuration, transactions and locks
 * are each site's own. An entity whose target state already includes the incoming write (or beats
 * it) gets no command and no condition: a state that includes or beats a write only ever becomes
 * one that still does (local writes sort after what they overwrite, merges are joins).
 *
 * <p>The target's stamps are observed by the local clock ({@link HybridClock#observe}): one of
 * another site more than {@code maxClockSkew} ahead of this site's clock refuses the batch with
 * {@link ClockSkewException} (the shipper retries it and reports the site pair); this site's own
 * stamps only advance the clock, as in {@link LocalWrites}.
 *
 * <p>Not thread-safe: one per shipper.
 */
final class SiteTranslator implements SiteShipper.Translator {

    private static final Logger LOG = LoggerFactory.getLogger(SiteTranslator.class);
    static final String LAST_WRITE_WINS = "LastWriteWins";
    static final String CONFLICT_RECORD = "ConflictRecord";
    static final String MERGE = "Merge";

    /**
     * A conflict resolved at the target: two concurrent writes of one entity.
     *
     * @param winner        the state the target holds now
     * @param loser         the write that lost (its value is null for a delete)
     * @param storedVersion the entity's version at the target before (0: deleted or absent there)
     * @param resultVersion its version at the target after (0: deleted)
     * @param strategy      how it was settled, as the event names it ({@code LastWriteWins}, {@code ConflictRecord}, {@code Merge})
     */
    record Conflict(String type, String id, String targetSite, SiteState winner, SiteState loser, long storedVersion, long resultVersion,
                    String strategy) {
    }

    private final EntityStates origin;
    private final ClusterRegistry target;
    private final EntityStates at;
    private final HybridClock clock;
    private final LongSupplier wallMillis;
    /** The conflict-resolution window in ms, or {@link Long#MAX_VALUE} when tombstones are never collected. */
    private final long windowMillis;
    private final Consumer<Conflict> conflicts;
    private final CrossSiteConflicts policy;
    /** The conflicts the last translation of the group settles, by entity: reported when its commands land. */
    private final Map<Entity, Conflict> pending = new LinkedHashMap<>();
    /**
     * The conflicts earlier translations of the same group settled, whose commit outcome was unknown:
     * if one of them landed, the next translation finds nothing to settle and the group is found
     * applied already; these are then the conflicts to report.
     */
    private final Map<Entity, Conflict> earlier = new LinkedHashMap<>();
    /**
     * The records and markers this translator wrote ahead of a shipment that has not landed yet, by
     * key and name, with the revision it wrote: what a translation done again no longer settles so
     * goes (if still the one written here), and what it settles alike is not written again.
     */
    private final Map<Ahead, Long> ahead = new LinkedHashMap<>();
    /** The origin sequence of the lone batch {@link #ahead} was written for. */
    private long aheadOf;

    private record Ahead(RegistryPath key, String name) {
    }

    /** The first and last sequences of the group {@link #pending} belongs to. */
    private long pendingFirst = -1;
    private long pendingLast = -1;

    /**
     * @param origin    the entities of the site whose batches are translated (its values are opened with its envelopes)
     * @param at        the entities of the target site, held by {@code target}
     * @param clock     the origin site's clock
     * @param conflicts told of each conflict once the batch that resolved it is applied at the target
     */
    SiteTranslator(EntityStates origin, ClusterRegistry target, EntityStates at, HybridClock clock, Consumer<Conflict> conflicts) {
        this(origin, target, at, clock, () -> 0, null, conflicts);
    }

    /**
     * @param wallMillis the origin site's wall clock (the one {@code clock} follows)
     * @param window     the conflict-resolution window: how long the sites keep tombstones; null
     *                   when they keep them for good. A write older than it (by the origin's own
     *                   clock: it is the origin's stamp) that meets no state at the target is refused
     *                   with {@link ConflictWindowExceededException}.
     */
    SiteTranslator(EntityStates origin, ClusterRegistry target, EntityStates at, HybridClock clock, LongSupplier wallMillis,
                   Duration window, Consumer<Conflict> conflicts) {
        this(origin, target, at, clock, wallMillis, window, CrossSiteConflicts.LAST_WRITE_WINS, conflicts);
    }

    /**
     * @param policy what becomes of a conflict's losing write: with {@code CONFLICT_RECORD} it is kept
     *               as a record at the target, in the batch that settles it or ahead of it ({@link ConflictRecords};
     *               settled at {@code wallMillis}); with {@code MERGE} a conflict of two updates
     *               leaves a merge owed at the target ({@link PendingMerges}), which the target's
     *               shipper-lease holder makes with the target's clock: a merged write is the
     *               target's, and stamped by this origin's clock (one running ahead) it would pass
     *               the target's skew guard as one of its own stamps
     */
    SiteTranslator(EntityStates origin, ClusterRegistry target, EntityStates at, HybridClock clock, LongSupplier wallMillis,
                   Duration window, CrossSiteConflicts policy, Consumer<Conflict> conflicts) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.origin = Objects.requireNonNull(origin, "origin");
        this.target = Objects.requireNonNull(target, "target");
        this.at = Objects.requireNonNull(at, "at");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.wallMillis = Objects.requireNonNull(wallMillis, "wallMillis");
        this.windowMillis = window == null ? Long.MAX_VALUE : window.toMillis();
        this.conflicts = Objects.requireNonNull(conflicts, "conflicts");
    }

    private record Entity(String type, String id) {
        String where() {
            return type + "/" + id;
        }
    }

    /** What one batch wrote of one entity. */
    private static final class Written {
        /** The batch of the latest change. */
        ChangeBatch batch;
        byte[] envelope;
        Long version;
        byte[] tombstone;
        boolean deleted;
    }

    @Override
    public List<BatchCommand> commands(List<ChangeBatch> batches) {
        long first = batches.get(0).sequence();
        long last = batches.get(batches.size() - 1).sequence();
        if (first != pendingFirst || last != pendingLast) {
            pending.clear();
            earlier.clear();
            pendingFirst = first;
            pendingLast = last;
        } else {
            earlier.putAll(pending); // the last attempt's outcome is unknown (a refusal clears it)
            pending.clear();
        }
        Map<Entity, Written> written = new LinkedHashMap<>();
        // of an entity several batches wrote, the last write counts: at the origin it overwrote the
        // earlier ones, so its state includes them and merging it alone gives the same state
        batches.forEach(b -> entityWrites(b, written));
        if (written.isEmpty()) {
            return List.of();
        }
        List<Entity> entities = new ArrayList<>(written.keySet());
        List<ReadBatch.Read> reads = new ArrayList<>(entities.size() * EntityStates.READS);
        for (Entity e : entities) {
            reads.addAll(at.reads(e.type, e.id));
        }
        ReadBatchResult read = target.read(ReadBatch.of(reads));
        List<BatchCommand> out = new ArrayList<>();
        // the conflict records and merge markers: in the batch, unless they would make a lone shipment too large
        List<BatchCommand> kept = new ArrayList<>();
        for (int i = 0; i < entities.size(); i++) {
            Entity e = entities.get(i);
            SiteState incoming = incoming(e, written.get(e));
            EntityStates.Current local = at.current(e.type, e.id, read, i * EntityStates.READS);
            if (local.state() != null && local.state().hlc() != 0) {
                if (local.state().origin().equals(origin.site())) {
                    // this site's own stamp, shipped earlier: after its clock stepped back it is still ahead of the
                    // wall, and LocalWrites stamps later writes after it; not another site's clock running ahead
                    clock.advanceTo(local.state().hlc());
                } else {
                    clock.observe(local.state().hlc(), local.state().origin());
                }
            }
            if (incoming.unstamped()) {
                if (heldAlready(local.state(), incoming, origin.site())) {
                    continue;
                }
                SiteState held = local.state();
                throw held != null && !held.unstamped() ? overwroteWithoutStamp(e, written.get(e).batch) : unstamped(e, written.get(e).batch);
            }
            SiteState held = pastCollection(local.state(), incoming, wallMillis.getAsLong(), windowMillis, clock.maxSkewMillis());
            if (held == null && windowMillis != Long.MAX_VALUE) {
                long age = wallMillis.getAsLong() - HybridClock.physical(incoming.hlc());
                // a delete of nothing (a tombstone re-sealed by a key rotation ships as one) brings nothing back: its
                // tombstone is written, and the target's collector removes it by its own clock, with the skew margin
                // collection allows; passed over, a create older than it that a clock behind judged younger than the
                // window could arrive next and be applied, at this site alone
                if (age > windowMillis && !incoming.deleted()) {
                    // the target holds nothing of it: perhaps because it collected the tombstone of a
                    // delete that beats this write everywhere else
                    throw new ConflictWindowExceededException("site " + at.site() + " would receive the write of " + e.where() + " made at "
                            + origin.site() + " " + age + " ms ago, later than the conflict-resolution window (" + windowMillis
                            + " ms) during which tombstones are kept; resync site " + at.site() + " from another site");
                }
            }
            CrossSiteMerge.Outcome merged = CrossSiteMerge.merge(held, incoming);
            if (!merged.changed(local.state())) {
                continue;
            }
            EntityStates.Written w = at.write(out, e.type, e.id, merged.state(), local);
            if (merged.conflict()) {
                Conflict c = settle(kept, policy, at, target, e.type, e.id, merged, local, w, wallMillis.getAsLong());
                if (!c.strategy().equals(MERGE)) {
                    pending.put(e, c); // a merge is reported where it is made
                }
            }
        }
        withdrawAhead(kept);
        if (!kept.isEmpty() && batches.size() == 1 && !fits(out, kept)) {
            writeAhead(kept, last);
        } else {
            out.addAll(kept); // a group of several batches that does not fit is split by the shipper first
        }
        return out;
    }

    /**
     * The state to merge {@code incoming} with: {@code held}, or null when it is a tombstone
     * {@link TombstoneCollector} removes (older than the window plus the maximum skew) and the
     * incoming write is later — merged as at a site that already collected it, with no conflict with a
     * delete every site has forgotten or will (a site that re-created the entity since no longer knows
     * the tombstone's vector). A write it beats meets it as ever.
     *
     * @param windowMillis the window alone, or {@link Long#MAX_VALUE} when tombstones are kept for good
     */
    static SiteState pastCollection(SiteState held, SiteState incoming, long wallMillis, long windowMillis, long maxSkewMillis) {
        if (held == null || !held.deleted() || windowMillis == Long.MAX_VALUE || incoming.compareStamp(held) <= 0) {
            return held;
        }
        return TombstoneCollector.collectible(held.hlc(), wallMillis, windowMillis + maxSkewMillis) ? null : held;
    }

    /**
     * Removes what an earlier translation wrote ahead and this one does not settle alike: after the
     * target changed under a shipment, a record or marker of a conflict that no longer happens must
     * not stay (a marker would merge a value that was overwritten). Nothing is removed once the
     * target's ledger shows the shipment applied — an attempt whose outcome was unknown landed, or
     * another shipper of the origin delivered it — for then what was written ahead belongs to a batch
     * that landed, and this translation settles nothing only because it reads the target after it.
     * So each removal is conditioned on the ledger's checkpoint for the origin being the one read
     * (below the shipment) and on the value being still the one written here: another delivery that
     * settled the same conflict since wrote its own, which stays.
     */
    private void withdrawAhead(List<BatchCommand> kept) {
        if (ahead.isEmpty()) {
            return;
        }
        java.util.Set<Ahead> settled = new java.util.HashSet<>();
        for (BatchCommand c : kept) {
            BatchCommand.SetValue s = (BatchCommand.SetValue) c;
            settled.add(new Ahead(s.key(), s.name()));
        }
        RegistryPath ledger = SiteReplication.ledgerKey(at.layout());
        for (java.util.Iterator<Map.Entry<Ahead, Long>> it = ahead.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Ahead, Long> a = it.next();
            if (settled.contains(a.getKey())) {
                continue;
            }
            while (true) {
                java.util.Optional<dev.reliablestore.registry.VersionedValue> checkpoint = target.getValue(ledger, origin.site());
                if (checkpoint.map(v -> v.value().asQword()).orElse(0L) >= aheadOf) {
                    // the shipment landed: everything written ahead of it is its own now
                    ahead.clear();
                    return;
                }
                WriteBatch.Builder b = WriteBatch.builder();
                if (checkpoint.isPresent()) {
                    b.requireRevision(ledger, origin.site(), checkpoint.get().revision());
                } else {
                    b.requireValueAbsent(ledger, origin.site());
                }
                b.requireRevision(a.getKey().key(), a.getKey().name(), a.getValue()).deleteValue(a.getKey().key(), a.getKey().name());
                try {
                    target.commit(b.build());
                } catch (ConditionFailedException e) {
                    if (e.failedCommandIndex() == 0) {
                        continue; // a delivery moved the checkpoint meanwhile: read it and decide again
                    }
                    // rewritten by another delivery of the same conflict, or gone: not this translator's to remove
                }
                break;
            }
            it.remove();
        }
    }

    /**
     * Whether {@code commands} with {@code kept} and the shipment ledger's commands fit one batch of
     * the target.
     */
    private boolean fits(List<BatchCommand> commands, List<BatchCommand> kept) {
        RegistryLimits limits = target.limits();
        if (commands.size() + kept.size() + LocalWrites.SHIPPED_BATCH_COMMANDS > limits.maxBatchCommands()) {
            return false;
        }
        WriteBatch.Builder b = WriteBatch.builder();
        commands.forEach(b::add);
        kept.forEach(b::add);
        return b.build().encodedSize() + LocalWrites.SHIPPED_BATCH_BYTES <= limits.maxBatchBytes();
    }

    /**
     * Writes the records and markers of a shipment that cannot carry them (its entities and their
     * losing values together exceed the target's batch limit) ahead of it, in batches of their own:
     * each is a value of its own name (one per conflict), so none is lost if the shipment lands. One
     * an earlier attempt wrote ahead is not written again; one a translation done again no longer
     * settles is withdrawn ({@link #withdrawAhead}); a marker is merged only once the write it kept has
     * landed (PendingMerges). What this process wrote ahead is known only to it: if it dies before the
     * shipment lands, and the shipment is then settled otherwise, those stay.
     */
    private void writeAhead(List<BatchCommand> kept, long sequence) {
        aheadOf = sequence;
        RegistryLimits limits = target.limits();
        List<BatchCommand> batch = new ArrayList<>();
        long bytes = 0;
        int written = 0;
        for (BatchCommand c : kept) {
            BatchCommand.SetValue s = (BatchCommand.SetValue) c;
            if (ahead.containsKey(new Ahead(s.key(), s.name()))) {
                continue; // the same conflict, written ahead by an earlier attempt (only the time it was settled differs)
            }
            long size = WriteBatch.of(List.of(c)).encodedSize(); // a batch's size is the sum of its commands'
            if (!batch.isEmpty() && (batch.size() + 1 > limits.maxBatchCommands() || bytes + size > limits.maxBatchBytes())) {
                commitAhead(batch);
                batch.clear();
                bytes = 0;
            }
            batch.add(c);
            bytes += size;
            written++;
        }
        if (!batch.isEmpty()) {
            commitAhead(batch);
        }
        LOG.debug("{}: wrote {} conflict record(s) or merge marker(s) ahead of a shipment too large to carry them", this, written);
    }

    private void commitAhead(List<BatchCommand> batch) {
        long revision = target.commit(WriteBatch.of(batch)).sequence();
        for (BatchCommand c : batch) {
            BatchCommand.SetValue s = (BatchCommand.SetValue) c;
            ahead.put(new Ahead(s.key(), s.name()), revision);
        }
    }


    /**
     * Adds to {@code out} — the commands that go with the batch that settles a conflict at site
     * {@code at} — what {@code policy} keeps of its losing write: a conflict record, or (two updates
     * under {@code MERGE}) the marker of the merge owed, which reports the conflict once it is made.
     * The one place where a settled conflict becomes durable: shipped batches and resyncs alike.
     *
     * @param merged  the merge of the two writes (a conflict)
     * @param local   what {@code at} held before
     * @param written what {@code out} makes {@code at} hold
     * @return the conflict, its strategy saying how it was settled
     */
    static Conflict settle(List<BatchCommand> out, CrossSiteConflicts policy, EntityStates at, ClusterRegistry target, String type,
                           String id, CrossSiteMerge.Outcome merged, EntityStates.Current local, EntityStates.Written written,
                           long nowMillis) {
        long stored = local.version().map(v -> v.value().asQword()).orElse(0L);
        boolean updates = !merged.state().deleted() && !merged.loser().deleted();
        if (policy == CrossSiteConflicts.MERGE && updates) {
            // merged at every site that settles it: the state kept here now counts the loser as included,
            // and a later write made here or elsewhere on top of it may reach the winner's site before
            // the loser does, which would then find nothing to merge
            Conflict c = new Conflict(type, id, at.site(), merged.state(), merged.loser(), stored, written.version(), MERGE);
            out.add(PendingMerges.marker(at, target, c, nowMillis));
            return c;
        }
        boolean record = policy == CrossSiteConflicts.CONFLICT_RECORD;
        Conflict c = new Conflict(type, id, at.site(), merged.state(), merged.loser(), stored, written.version(),
                record ? CONFLICT_RECORD : LAST_WRITE_WINS);
        if (record) {
            out.add(ConflictRecords.write(at, target, c, nowMillis));
        }
        return c;
    }

    @Override
    public void applied(List<ChangeBatch> batches, boolean byLastCommands) {
        // the last translation's records and markers written ahead are its batch's now, landed
        ahead.clear();
        boolean ours = batches.get(0).sequence() == pendingFirst && batches.get(batches.size() - 1).sequence() == pendingLast;
        if (ours) {
            // found applied already: an earlier attempt landed, and the last translation settled nothing of its own
            (byLastCommands ? pending : earlier).values().forEach(conflicts);
        }
        pending.clear();
        earlier.clear();
        pendingFirst = -1;
        pendingLast = -1;
    }

    @Override
    public void refused(List<ChangeBatch> batches) {
        // nothing landed: the conflicts of that attempt are not the ones to report (the next translation finds its own)
        pending.clear();
    }

    /** Adds the entity writes of {@code batch} to {@code out}, a later write of an entity replacing an earlier one. */
    private void entityWrites(ChangeBatch batch, Map<Entity, Written> out) {
        for (Change c : batch.changes()) {
            RegistryPath key = c.key();
            if (!key.isBelow(origin.layout().entities())) {
                if (c instanceof Change.KeyDeleted && key.contains(origin.layout().entities())) {
                    throw unshippable(batch, "it deletes " + key + ", above the entities");
                }
                continue;
            }
            String type = origin.layout().typeOfTypeKey(key);
            String versionsOf = origin.layout().typeOfVersionsKey(key);
            String tombstonesOf = key.depth() == origin.layout().entities().depth() + 2 && key.name().equals(StorageLayout.TOMBSTONES)
                    ? key.parent().name() : null;
            if (c instanceof Change.ValueSet s) {
                if (type != null && !s.name().equals(StorageLayout.METADATA)) {
                    Written w = at(out, type, s.name(), batch);
                    w.envelope = s.value().value().asBinary();
                    w.version = null; // set after the envelope, in the same batch
                    w.tombstone = null;
                    w.deleted = false;
                } else if (versionsOf != null) {
                    at(out, versionsOf, s.name(), batch).version = s.value().value().asQword();
                } else if (tombstonesOf != null) {
                    Written w = at(out, tombstonesOf, s.name(), batch);
                    w.tombstone = s.value().value().asBinary();
                    w.envelope = null;
                    w.version = null;
                    w.deleted = false;
                }
            } else if (c instanceof Change.ValueDeleted d) {
                if (type != null && !d.name().equals(StorageLayout.METADATA)) {
                    Written w = at(out, type, d.name(), batch);
                    w.envelope = null;
                    w.version = null;
                    w.tombstone = null;
                    w.deleted = true;
                }
            } else if (c instanceof Change.KeyDeleted) {
                throw unshippable(batch, "it deletes the key " + key + ", as a restore from a backup does; if site " + origin.site()
                        + " was restored, repair the sites with `sites resync` (docs/geo-replication.md, \"A site restored from a backup\")");
            }
        }
    }

    private static Written at(Map<Entity, Written> out, String type, String id, ChangeBatch batch) {
        Written w = out.computeIfAbsent(new Entity(type, id), k -> new Written());
        w.batch = batch;
        return w;
    }

    private IllegalStateException unshippable(ChangeBatch batch, String why) {
        return new IllegalStateException("batch " + batch.sequence() + " of site " + origin.site() + " cannot be shipped to site "
                + at.site() + ": " + why + " (entities are only ever written and deleted one by one)");
    }

    /** The state the origin's batch gave the entity. */
    private SiteState incoming(Entity e, Written w) {
        SiteState s;
        if (w.envelope != null) {
            if (w.version == null) {
                throw new IllegalStateException("site " + origin.site() + " wrote " + e.where() + " without its version record");
            }
            s = origin.opened(e.type, e.id, w.version, w.envelope);
        } else if (w.tombstone != null) {
            s = origin.tombstone(e.type, e.id, w.tombstone);
        } else if (w.deleted) {
            throw deletedWithoutTombstone(e, w.batch);
        } else {
            throw new IllegalStateException("site " + origin.site() + " wrote the version record of " + e.where() + " without its value");
        }
        return s;
    }

    /**
     * Whether the target needs nothing of {@code incoming}, a value without a stamp from site
     * {@code originSite}: the target holds the same value from before sites were configured, or a
     * stamped state that wins over time zero and that the origin gets (or got) too — one written at
     * the target or at a third site. A re-encryption re-seals a value from before sites unstamped and
     * so ships it again; a seeded site replays them from its copied history; stopping the shipper
     * there would hold back every later write of the origin. A stamped state written at the origin
     * itself, though, was overwritten there without a stamp (by a node without sites options): the
     * origin will not get it back, and passing the write over would leave the sites different.
     */
    static boolean heldAlready(SiteState held, SiteState incoming, String originSite) {
        if (held == null) {
            return false;
        }
        return held.unstamped() ? java.util.Arrays.equals(held.value(), incoming.value()) : !held.origin().equals(originSite);
    }

    /**
     * Writes made before sites were configured carry no stamp, so nothing orders two of them of one
     * entity across sites: shipping one to a site that holds nothing of the entity, or another value
     * from before sites were configured, could leave the sites different. The other sites are seeded
     * from this one instead (a copy of its registry).
     */
    private IllegalStateException unstamped(Entity e, ChangeBatch batch) {
        return new IllegalStateException("batch " + batch.sequence() + " of site " + origin.site() + " writes " + e.where()
                + " without a stamp (made before sites were configured, or since by a node without the sites options), and site "
                + at.site() + " holds nothing of it or another value from before sites were configured, so it is not shipped."
                + " If it was written since sites were configured, save the entity again through a store with the sites options and"
                + " run `sites resync --from " + origin.site() + " --to " + at.site() + "` to move the shipper past this batch; if site "
                + at.site() + " was never seeded, seed it from site " + origin.site() + " (a copy of its registry) and ship from the"
                + " checkpoint after it");
    }

    /**
     * A write without a stamp over a value the origin itself wrote stamped: made since sites were
     * configured by a node without sites options. Nothing orders it, and the target will never get
     * it otherwise; a stamped write of the entity settles both sites.
     */
    private IllegalStateException overwroteWithoutStamp(Entity e, ChangeBatch batch) {
        return new IllegalStateException("batch " + batch.sequence() + " of site " + origin.site() + " writes " + e.where()
                + " without a stamp over the value site " + origin.site() + " itself wrote (which site " + at.site() + " holds):"
                + " a node without the sites options wrote site " + origin.site() + "'s root, and nothing orders that write, so it is"
                + " not shipped. Save the entity again through a store with the sites options (its stamped write replaces it at both"
                + " sites), then run `sites resync --from " + origin.site() + " --to " + at.site() + "` to move the shipper past this batch");
    }

    /**
     * A delete that left no tombstone has no stamp either, so nothing orders it against the other
     * sites' writes. Stores at a site always leave one; such deletes come from before sites were
     * configured or from a tool writing the registry directly — a restore from a backup deletes the
     * site's contents that way, and seeding the other sites from it would spread what it lost.
     */
    private IllegalStateException deletedWithoutTombstone(Entity e, ChangeBatch batch) {
        return new IllegalStateException("batch " + batch.sequence() + " of site " + origin.site() + " deletes " + e.where()
                + " without leaving a tombstone, so nothing orders the delete against the other sites' writes and it is not shipped"
                + " to site " + at.site() + ". Such deletes are made before sites were configured or by a tool writing the registry"
                + " directly, as a restore from a backup does: if site " + origin.site() + " was restored, repair the sites with"
                + " `sites resync` (docs/geo-replication.md, \"A site restored from a backup\"); otherwise seed site " + at.site()
                + " from site " + origin.site() + " (a copy of its registry) and ship from the checkpoint after it");
    }

    @Override
    public String toString() {
        return "SiteTranslator[" + origin.site() + " -> " + at.site() + "]";
    }
}
