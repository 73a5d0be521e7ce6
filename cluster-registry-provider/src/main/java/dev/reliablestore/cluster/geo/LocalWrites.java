package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The writes a site makes itself — saves and deletes, alone or as a batch — stamped for the other
 * sites: read the entities' states ({@link #reading}), then {@link #plan} the commands that replace
 * them, conditioned on the states read (a commit that fails them is read and planned again).
 *
 * <p>A plan takes <em>one</em> clock reading for all its entities, after every state it replaces, so
 * a batch wins or loses against another batch as a whole (docs/geo-replication.md, "Batches"). A
 * replaced state made by another site whose timestamp is further ahead of this site's clock than
 * the maximum skew refuses the plan with {@link ClockSkewException}: the local write would have to
 * be stamped after it and drag this site's clock that far ahead for good. This site's own stamps are
 * taken as they are (its clock may have gone backwards across a restart).
 *
 * <p>The provider's seam to the geo package for a store at a site, not an API for applications.
 */
public final class LocalWrites {

    /**
     * Commands per entity a batch at a site is budgeted for where it is shipped: the translator
     * writes each entity as a plan does — three conditions, then the envelope, the version record and
     * the tombstone's removal (or the two deletes and the tombstone) ({@link EntityStates#write}) —
     * plus, for an entity that meets a conflict there, its conflict record or merge marker.
     */
    public static final int COMMANDS_PER_ENTITY = 7;
    /** Commands a shipped batch adds at another site: the shipment ledger's condition and advance. */
    public static final int SHIPPED_BATCH_COMMANDS = 2;
    /**
     * Bytes a shipped entity may grow by where it lands: its envelope re-sealed with the target's site
     * name and the merged state's origin (64 bytes each at most) and a vector merged with the
     * target's (16 sites of 75 bytes at most), rounded up.
     */
    public static final int SHIPPED_BYTES_PER_ENTITY = 1536;
    /** Bytes a shipped batch adds where it lands: the shipment ledger's two commands, rounded up. */
    public static final int SHIPPED_BATCH_BYTES = 512;

    private final EntityStates states;
    private final HybridClock clock;

    LocalWrites(EntityStates states, HybridClock clock) {
        this.states = Objects.requireNonNull(states, "states");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The site's clock its writes are stamped by. */
    HybridClock clock() {
        return clock;
    }

    /**
     * The writes of the store under {@code layout} at {@code site}.
     *
     * @param locks        the store's key of entity locks ({@code <root>/Transactions/Locks}: one subkey per type)
     * @param envelopes    the store's envelope codec at this site
     * @param wallMillis   the site's wall clock, milliseconds since the epoch
     * @param maxClockSkew how far ahead of it another site's stamp may be
     */
    public LocalWrites(StorageLayout layout, RegistryPath locks, SiteEnvelopes envelopes, String site, LongSupplier wallMillis,
                       Duration maxClockSkew) {
        this(new EntityStates(layout, locks, envelopes, site), new HybridClock(wallMillis, maxClockSkew));
    }

    /** The site these writes are made at. */
    public String site() {
        return states.site();
    }

    /**
     * What to read before writing some entities of a type: {@link #reads()} goes into one read
     * batch, whose answer {@link #plan} takes with this reading, so answers are never matched to the
     * wrong entity.
     *
     * @param ids the entities, in the order of the reads ({@link EntityStates#READS} each)
     */
    public record Reading(String type, List<String> ids, List<ReadBatch.Read> reads) {
    }

    /** The reading of {@code ids} (distinct) of {@code type}. */
    public Reading reading(String type, Collection<String> ids) {
        List<String> order = List.copyOf(ids);
        if (new HashSet<>(order).size() != order.size()) {
            throw new IllegalArgumentException("an entity is named twice in " + order);
        }
        List<ReadBatch.Read> reads = new ArrayList<>(order.size() * EntityStates.READS);
        for (String id : order) {
            reads.addAll(states.reads(type, id));
        }
        return new Reading(type, order, List.copyOf(reads));
    }

    /**
     * What a site holds of an entity, as the provider decides on a write.
     *
     * @param version  its version, 0 when it is absent or deleted
     * @param revision its version record's revision, -1 when there is none
     * @param json     its JSON, null when it is absent or deleted
     */
    public record Found(long version, long revision, byte[] json) {

        public boolean exists() {
            return json != null;
        }
    }

    /**
     * The entities' states as the answer to a reading found them, each opened (authenticated and
     * decrypted) once: what the provider decides on ({@link #found}) and what {@link #plan} replaces.
     */
    public static final class Read {
        private final Reading reading;
        private final Map<String, EntityStates.Current> states;

        private Read(Reading reading, Map<String, EntityStates.Current> states) {
            this.reading = reading;
            this.states = states;
        }

        /** Per entity, in the reading's order: its version, its version record's revision and its JSON. */
        public Map<String, Found> found() {
            Map<String, Found> out = new LinkedHashMap<>();
            states.forEach((id, c) -> out.put(id, c.version().map(v -> new Found(v.value().asQword(), v.revision(), c.state().value()))
                    .orElseGet(() -> new Found(0, -1, null))));
            return out;
        }

        /** The state read of {@code id} (null: the entity never existed there). */
        SiteState state(String id) {
            EntityStates.Current c = states.get(id);
            return c == null ? null : c.state();
        }
    }

    /** The states that {@code answer}, the answer to {@code reading}'s reads, holds. */
    public Read read(Reading reading, ReadBatchResult answer) {
        if (answer.size() != reading.reads().size()) {
            throw new IllegalArgumentException("the answer holds " + answer.size() + " reads, the reading made " + reading.reads().size());
        }
        Map<String, EntityStates.Current> opened = new LinkedHashMap<>();
        for (int i = 0; i < reading.ids().size(); i++) {
            String id = reading.ids().get(i);
            opened.put(id, states.current(reading.type(), id, answer, i * EntityStates.READS));
        }
        return new Read(reading, opened);
    }

    /**
     * What a batch of local writes is.
     *
     * @param commands what to commit, in one batch
     * @param written  per entity, the state written; deletes of an entity that is absent or already
     *                 deleted are left out (they write nothing)
     * @param stored   per entity written, its new version (0 for a tombstone) and sealed envelope
     */
    public record Plan(List<BatchCommand> commands, Map<String, SiteState> written, Map<String, EntityStates.Written> stored) {

        /** Whether there is nothing to commit. */
        public boolean isEmpty() {
            return commands.isEmpty();
        }

        /** The version an entity is written at (0: its tombstone), or -1 when the plan does not write it. */
        public long version(String id) {
            EntityStates.Written w = stored.get(id);
            return w == null ? -1 : w.version();
        }

        /** The envelope (or tombstone) an entity is written as, or null when the plan does not write it. */
        public byte[] sealed(String id) {
            EntityStates.Written w = stored.get(id);
            return w == null ? null : w.sealed().envelope();
        }

        /** The JSON bytes the plan stores, summed (a store's compression metrics). */
        public long plainBytes() {
            return stored.values().stream().mapToLong(w -> w.sealed().plainBytes()).sum();
        }

        /** The same bytes after compression, summed. */
        public long compressedBytes() {
            return stored.values().stream().mapToLong(w -> w.sealed().compressedBytes()).sum();
        }
    }

    /** {@link #plan(Read, Map)} of the answer to {@code reading}'s reads. */
    public Plan plan(Reading reading, Map<String, byte[]> writes, ReadBatchResult answer) {
        return plan(read(reading, answer), writes);
    }

    /**
     * The commands that make this site hold {@code writes} (id → JSON, or null for a delete) in
     * place of the states {@code read} found; in the reading's order. {@code writes} names exactly
     * the reading's entities.
     *
     * @throws ClockSkewException a replaced state was stamped by another site too far ahead of this
     *                            site's clock; nothing is planned and the clock is unchanged
     */
    public Plan plan(Read read, Map<String, byte[]> writes) {
        List<BatchCommand> commands = new ArrayList<>();
        Map<String, SiteState> written = new LinkedHashMap<>();
        Map<String, EntityStates.Written> stored = new LinkedHashMap<>();
        plan(List.of(read), List.of(writes), null, null, commands, (type, id, state, w) -> {
            written.put(id, state);
            stored.put(id, w);
        });
        return new Plan(List.copyOf(commands), written, stored);
    }

    /**
     * {@link #plan(Read, Map)} of a merged value of entity {@code id} ({@code crossSiteConflicts =
     * Merge}), stamped one tick after the later of the state {@code read} found and {@code lost}, the
     * write merged into it — not with the clock's reading now, as SiteResync stamps its deletes just
     * after what they replace. A merge is made when the site gets to it, maybe long after its writes;
     * stamped then, it would beat a delete made after both writes but before the merge, at every
     * site, since a conflict with a delete goes to the later stamp.
     *
     * @throws ClockSkewException as {@link #plan(Read, Map)}
     */
    public Plan planMerge(Read read, String id, byte[] json, SiteState lost) {
        List<BatchCommand> commands = new ArrayList<>();
        Map<String, SiteState> written = new LinkedHashMap<>();
        Map<String, EntityStates.Written> stored = new LinkedHashMap<>();
        plan(List.of(read), List.of(Map.of(id, json)), null, Objects.requireNonNull(lost, "lost"), commands, (type, i, state, w) -> {
            written.put(i, state);
            stored.put(i, w);
        });
        return new Plan(List.copyOf(commands), written, stored);
    }

    /**
     * The commands that commit a transaction at this site: its writes of several types (in
     * {@code reads}' order, {@code writes.get(i)} those of {@code reads.get(i)}), all stamped with
     * one clock reading — like a batch, it wins or loses as a whole at the other sites — each on
     * the condition that the transaction's lock ({@code heldBy}) still holds the entity, and
     * removing that lock; an entity whose delete writes nothing is only unlocked. With
     * {@code heldBy} null (a commit in one phase, which took no locks) the condition is that no
     * lock holds the entity.
     *
     * @throws ClockSkewException as {@link #plan(Read, Map)}
     */
    public List<BatchCommand> planCommit(List<Read> reads, List<Map<String, byte[]>> writes, RegistryValue heldBy) {
        List<BatchCommand> commands = new ArrayList<>();
        plan(reads, writes, heldBy, null, commands, (type, id, state, w) -> { });
        return List.copyOf(commands);
    }

    /** What {@link #plan(List, List, RegistryValue, List, Sink)} wrote of one entity. */
    private interface Sink {
        void written(String type, String id, SiteState state, EntityStates.Written stored);
    }

    /** @param merged for a merged write, the write merged in (the stamp follows it and what is read); else null, stamped now */
    private void plan(List<Read> reads, List<Map<String, byte[]>> writes, RegistryValue heldBy, SiteState merged, List<BatchCommand> commands,
                      Sink sink) {
        if (reads.size() != writes.size()) {
            throw new IllegalArgumentException(reads.size() + " readings, " + writes.size() + " sets of writes");
        }
        List<Map<String, EntityStates.Current>> replaced = new ArrayList<>();
        List<EntityStates.Current> all = new ArrayList<>();
        for (int i = 0; i < reads.size(); i++) {
            Reading reading = reads.get(i).reading;
            Map<String, byte[]> w = writes.get(i);
            if (!w.keySet().equals(new HashSet<>(reading.ids()))) {
                throw new IllegalArgumentException("the writes name " + w.keySet() + ", the reading " + reading.ids());
            }
            Map<String, EntityStates.Current> r = new LinkedHashMap<>();
            for (Map.Entry<String, EntityStates.Current> e : reads.get(i).states.entrySet()) {
                SiteState before = e.getValue().state();
                // a delete of nothing writes nothing, and its state takes no part in the stamp
                if (w.get(e.getKey()) != null || (before != null && !before.deleted())) {
                    r.put(e.getKey(), e.getValue());
                    all.add(e.getValue());
                } else if (heldBy != null) {
                    String type = reading.type();
                    commands.add(states.lockCondition(type, e.getKey(), heldBy));
                    commands.add(new BatchCommand.DeleteValue(states.locksOf(type), e.getKey()));
                }
            }
            replaced.add(r);
        }
        if (all.isEmpty()) {
            return;
        }
        long stamp = merged == null ? stampAfter(all) : stampJustAfter(all, merged);
        for (int i = 0; i < reads.size(); i++) {
            String type = reads.get(i).reading.type();
            for (Map.Entry<String, EntityStates.Current> e : replaced.get(i).entrySet()) {
                SiteState next = SiteState.after(e.getValue().state(), writes.get(i).get(e.getKey()), states.site(), stamp);
                sink.written(type, e.getKey(), next, states.write(commands, type, e.getKey(), next, e.getValue(), heldBy));
            }
        }
    }

    /** One timestamp after every state in {@code replaced}, checked for skew before the clock moves. */
    private long stampAfter(Collection<EntityStates.Current> replaced) {
        observe(replaced);
        return clock.tick();
    }

    /** One logical tick after the latest of {@code replaced} and {@code merged}, checked for skew as {@link #stampAfter}. */
    private long stampJustAfter(Collection<EntityStates.Current> replaced, SiteState merged) {
        observe(replaced);
        long latest = merged.hlc();
        for (EntityStates.Current c : replaced) {
            if (c.state() != null) {
                latest = Math.max(latest, c.state().hlc());
            }
        }
        clock.advanceTo(latest + 1); // the site's later writes still sort after it
        return latest + 1;
    }

    /** Takes the stamps of {@code replaced} into the clock; throws before anything moved if another site's is too far ahead. */
    private void observe(Collection<EntityStates.Current> replaced) {
        SiteState ahead = null;
        for (EntityStates.Current c : replaced) {
            SiteState s = c.state();
            if (s != null && !s.origin().equals(states.site()) && (ahead == null || s.hlc() > ahead.hlc())) {
                ahead = s;
            }
        }
        if (ahead != null) {
            clock.observe(ahead.hlc(), ahead.origin()); // throws before anything moved
        }
        for (EntityStates.Current c : replaced) {
            if (c.state() != null) {
                clock.advanceTo(c.state().hlc());
            }
        }
    }
}
