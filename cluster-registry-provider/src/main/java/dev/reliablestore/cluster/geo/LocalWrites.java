package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The writes a site makes itself — saves and deletes, alone or as a batch — stamped for the other
 * sites: read the entities' states ({@link #reads}), then {@link #plan} the commands that replace
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

    /** The reads {@link #plan} needs for {@code ids}, in their order, {@link EntityStates#READS} per entity: one read batch. */
    List<ReadBatch.Read> reads(String type, Collection<String> ids) {
        List<ReadBatch.Read> out = new ArrayList<>(ids.size() * EntityStates.READS);
        for (String id : ids) {
            out.addAll(states.reads(type, id));
        }
        return out;
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
     * place of what {@code read}, the answer to {@link #reads} of the same ids in the same order,
     * found. The ids' order is the batch's.
     *
     * @throws ClockSkewException a replaced state was stamped by another site too far ahead of this
     *                            site's clock; nothing is planned and the clock is unchanged
     */
    Plan plan(String type, Map<String, byte[]> writes, ReadBatchResult read) {
        List<EntityStates.Current> found = new ArrayList<>(writes.size());
        int offset = 0;
        for (String id : writes.keySet()) {
            found.add(states.current(type, id, read, offset));
            offset += EntityStates.READS;
        }
        long stamp = stampAfter(found);
        List<BatchCommand> commands = new ArrayList<>();
        Map<String, SiteState> written = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, byte[]> w : writes.entrySet()) {
            EntityStates.Current current = found.get(i++);
            SiteState before = current.state();
            if (w.getValue() == null && (before == null || before.deleted())) {
                continue;
            }
            SiteState next = SiteState.after(before, w.getValue(), states.site(), stamp);
            states.write(commands, type, w.getKey(), next, current);
            written.put(w.getKey(), next);
        }
        return new Plan(List.copyOf(commands), written);
    }

    /** One timestamp after every state in {@code found}, checked for skew before the clock moves. */
    private long stampAfter(List<EntityStates.Current> found) {
        SiteState ahead = null;
        for (EntityStates.Current c : found) {
            SiteState s = c.state();
            if (s != null && !s.origin().equals(states.site()) && (ahead == null || s.hlc() > ahead.hlc())) {
                ahead = s;
            }
        }
        if (ahead != null) {
            clock.observe(ahead.hlc(), ahead.origin()); // throws before anything moved
        }
        for (EntityStates.Current c : found) {
            if (c.state() != null) {
                clock.advanceTo(c.state().hlc());
            }
        }
        return clock.tick();
    }
}
