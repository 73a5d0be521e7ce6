package dev.reliablestore.it.provider;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Optimistic read-modify-write increments of {@link Tally} slots that count only acknowledged writes
 * and settle an unknown outcome by reading, as docs/cluster-registry-provider.md prescribes: a
 * {@link StoreUnavailableException} may say the outcome of the write is unknown ({@code outcomeUnknown()}), and
 * the writer's own slot (which nobody else changes) tells whether that write landed.
 */
final class OptimisticIncrements {

    private OptimisticIncrements() {
    }

    /** What one writer thread knows: increments acknowledged per entity, and how ambiguous outcomes were settled. */
    static final class Writer {
        final String name;
        final EntityStore<Tally> store;
        final AtomicLongArray acked;
        final AtomicLong ackedAfterKill = new AtomicLong();
        final AtomicLong conflicts = new AtomicLong();
        final AtomicLong unavailable = new AtomicLong();
        final AtomicLong unknownButApplied = new AtomicLong();
        final AtomicLong unknownNotApplied = new AtomicLong();

        Writer(String name, EntityStore<Tally> store, int entities) {
            this.name = name;
            this.store = store;
            this.acked = new AtomicLongArray(entities);
        }
    }

    /** Reads until the store answers (an unavailable store is retried: the test waits for the ensemble, bounded by the caller). */
    static Versioned<Tally> readThrough(EntityStore<Tally> store, String id, AtomicBoolean giveUp) {
        while (true) {
            try {
                return store.get(id).orElseThrow(() -> new AssertionError(id + " vanished"));
            } catch (StoreUnavailableException e) {
                if (giveUp.get()) {
                    throw e;
                }
            }
        }
    }

    /**
     * One increment of {@code writer}'s slot of entity {@code id}: read, then save with the read version
     * as expected version. A conflict wrote nothing (contract): read again. A {@link StoreUnavailableException}
     * may hide a write that landed; the writer's own slot settles it, since nobody else changes it. Returns
     * once the increment is acknowledged (or found applied); counts it in {@code writer.acked}.
     */
    static void increment(Writer writer, String[] ids, int e, AtomicLong killedAt, AtomicLong firstAckAfterKill,
                                  AtomicBoolean giveUp, List<String> violations) {
        String id = ids[e];
        long invoked = System.nanoTime();
        while (true) {
            Versioned<Tally> cur = readThrough(writer.store, id, giveUp);
            long mine = cur.value().of(writer.name);
            try {
                long v = writer.store.save(id, cur.value().incremented(writer.name), cur.version());
                if (v != cur.version() + 1) {
                    violations.add(writer.name + ": save of " + id + " at " + cur.version() + " returned version " + v);
                }
            } catch (ConcurrencyConflictException conflict) {
                writer.conflicts.incrementAndGet();
                continue;
            } catch (StoreUnavailableException unavailable) {
                writer.unavailable.incrementAndGet();
                boolean saidUnknown = unavailable.outcomeUnknown();
                long now = readThrough(writer.store, id, giveUp).value().of(writer.name);
                if (now == mine + 1) {
                    writer.unknownButApplied.incrementAndGet();
                    if (!saidUnknown) {
                        violations.add(writer.name + ": a save reported as not applied did land: " + unavailable.getMessage());
                    }
                } else if (now == mine) {
                    writer.unknownNotApplied.incrementAndGet();
                    continue;
                } else {
                    violations.add(writer.name + ": slot of " + id + " went from " + mine + " to " + now + " in one save");
                    return;
                }
            }
            writer.acked.incrementAndGet(e);
            long killed = killedAt.get();
            // resumed: an increment asked for after the kill began (one the old leader answered before it died is not)
            if (killed != 0 && invoked - killed > 0) {
                firstAckAfterKill.compareAndSet(0, System.nanoTime());
                writer.ackedAfterKill.incrementAndGet();
            }
            return;
        }
    }
}
