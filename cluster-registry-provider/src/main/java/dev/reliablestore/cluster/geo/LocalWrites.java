package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

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
 */
final class LocalWrites {

    private final EntityStates states;
    private final HybridClock clock;

    LocalWrites(EntityStates states, HybridClock clock) {
        this.states = Objects.requireNonNull(states, "states");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * What to read before writing some entities of a type: {@link #reads()} goes into one read
     * batch, whose answer {@link #plan} takes with this reading, so answers are never matched to the
     * wrong entity.
     *
     * @param ids the entities, in the order of the reads ({@link EntityStates#READS} each)
     */
    record Reading(String type, List<String> ids, List<ReadBatch.Read> reads) {
    }

    /** The reading of {@code ids} (distinct) of {@code type}. */
    Reading reading(String type, Collection<String> ids) {
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
     * What a batch of local writes is.
     *
     * @param commands what to commit, in one batch
     * @param written  per entity, the state written; deletes of an entity that is absent or already
     *                 deleted are left out (they write nothing)
     */
    record Plan(List<BatchCommand> commands, Map<String, SiteState> written) {

        /** Whether there is nothing to commit. */
        boolean isEmpty() {
            return commands.isEmpty();
        }
    }

    /**
     * The commands that make this site hold {@code writes} (id → JSON, or null for a delete) in
     * place of what {@code read}, the answer to the reads of {@code reading}, found; in the
     * reading's order. {@code writes} names exactly the reading's entities.
     *
     * @throws ClockSkewException a replaced state was stamped by another site too far ahead of this
     *                            site's clock; nothing is planned and the clock is unchanged
     */
    Plan plan(Reading reading, Map<String, byte[]> writes, ReadBatchResult read) {
        if (!writes.keySet().equals(new HashSet<>(reading.ids()))) {
            throw new IllegalArgumentException("the writes name " + writes.keySet() + ", the reading " + reading.ids());
        }
        if (read.size() != reading.reads().size()) {
            throw new IllegalArgumentException("the answer holds " + read.size() + " reads, the reading made " + reading.reads().size());
        }
        Map<String, EntityStates.Current> replaced = new LinkedHashMap<>();
        for (int i = 0; i < reading.ids().size(); i++) {
            String id = reading.ids().get(i);
            EntityStates.Current current = states.current(reading.type(), id, read, i * EntityStates.READS);
            SiteState before = current.state();
            // a delete of nothing writes nothing, and its state takes no part in the stamp
            if (writes.get(id) != null || (before != null && !before.deleted())) {
                replaced.put(id, current);
            }
        }
        if (replaced.isEmpty()) {
            return new Plan(List.of(), Map.of());
        }
        long stamp = stampAfter(replaced.values());
        List<BatchCommand> commands = new ArrayList<>();
        Map<String, SiteState> written = new LinkedHashMap<>();
        for (Map.Entry<String, EntityStates.Current> e : replaced.entrySet()) {
            SiteState next = SiteState.after(e.getValue().state(), writes.get(e.getKey()), states.site(), stamp);
            states.write(commands, reading.type(), e.getKey(), next, e.getValue());
            written.put(e.getKey(), next);
        }
        return new Plan(List.copyOf(commands), written);
    }

    /** One timestamp after every state in {@code replaced}, checked for skew before the clock moves. */
    private long stampAfter(Collection<EntityStates.Current> replaced) {
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
        return clock.tick();
    }
}
